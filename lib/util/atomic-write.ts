// Writing a file so that readers see the old content or the new, never half of either: write a
// temp file beside the target (same filesystem, so rename is atomic), flush it, then rename.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  // The temp name starts with the target's so a leftover (after SIGKILL) is easy to recognise.
  const temp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content);
    // Flush before rename: otherwise a power loss can leave the new name pointing at empty data.
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Puts `staged` (a file or folder) at `workspace/rel`, replacing what is there. The old one is moved
 * under `aside` first, by rename, so the path never holds a half-deleted folder. Only for
 * replace-outs.ts, which makes a list of these one unit a kill cannot leave half-done.
 * lstat, not exists: a dangling symlink at the target must be moved aside too.
 */
export async function replaceByRename(
  workspace: string,
  rel: string,
  staged: string,
  aside: string,
): Promise<void> {
  const final = join(workspace, rel);
  mkdirSync(dirname(final), { recursive: true });
  if (
    await lstat(final).then(
      () => true,
      () => false,
    )
  ) {
    const old = join(aside, rel);
    mkdirSync(dirname(old), { recursive: true });
    await rename(final, old);
  }
  await rename(staged, final);
}
