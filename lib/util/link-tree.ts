// A copy of a file or folder tree made of hard links: the same files under a second name, made
// in the time of a walk whatever their size. An incremental stage gets its previous outputs
// this way (build/runner.ts), so it must replace files there (write a new one and rename it over,
// or delete), never write into one: that would change the original too.
import { link, lstat, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Links `from` (a file or folder) to the not yet existing `to`; symlinks are copied as links. */
export async function linkTree(from: string, to: string): Promise<void> {
  const st = await lstat(from);
  if (st.isSymbolicLink()) await symlink(await readlink(from), to);
  else if (st.isDirectory()) {
    await mkdir(to);
    for (const name of await readdir(from)) await linkTree(join(from, name), join(to, name));
  } else await link(from, to);
}
