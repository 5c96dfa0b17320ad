// Content hashes of files, folders and globs (sha256 via node:crypto, which uses the CPU's SHA
// instructions through OpenSSL).
//
// Speed comes from three things: the state cache (HashCache) answers for files whose stamp has
// not changed, so a no-op status only stats; stats run synchronously in one loop (cheaper than a
// thread-pool round trip per file when the metadata is cached by the kernel); and the files that
// must be read are read in parallel: many of them (a freshly downloaded folder) in batches on
// worker threads, one per core, with synchronous reads (hash-threads.ts); a few with bounded
// concurrency through libuv's thread pool while the main thread hashes what has arrived, files of
// 16 MiB and more on a worker thread each, since sha256 runs on the thread that calls it.
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Sha256Hex } from '../util/sha256.js';
import { dirEntries } from './dir-entries.js';
import type { FileHash } from './types.js';

/**
 * Files at most this big are read in one call; bigger ones are streamed so memory stays flat.
 * 1 MiB: one read syscall's worth, well below what hurts with 64 reads in flight.
 */
const WHOLE_READ_MAX = 1 << 20;
export async function hashFile(absPath: string, size = Infinity): Promise<Sha256Hex> {
  if (size <= WHOLE_READ_MAX) {
    return createHash('sha256')
      .update(await readFile(absPath))
      .digest('hex') as Sha256Hex;
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex') as Sha256Hex;
}

/** Manifest hash of files whose `path` is relative to `base` (a folder, or '' for a glob). */
export function manifestHash(files: readonly FileHash[], base: string): Sha256Hex {
  const hash = createHash('sha256');
  manifestChunks(files, base, (chunk) => hash.update(chunk));
  return hash.digest('hex') as Sha256Hex;
}

/**
 * The manifest's text, the bytes its hash is taken over, handed out in chunks of about 64 KiB:
 * `<path relative to base>\t<sha256>\t<size>\n` per file, sorted.
 */
export function manifestChunks(
  files: readonly FileHash[],
  base: string,
  take: (chunk: string) => void,
): void {
  const cut = base === '' ? 0 : base.length + 1;
  const line = (f: FileHash): string => `${f.path.slice(cut)}\t${f.sha256}\t${f.size}\n`;
  if (!linesSorted(files)) {
    take(files.map(line).sort().join(''));
    return;
  }
  // Our listings come sorted: the lines are made a chunk at a time, so 100,000 line strings never
  // live at once (they would survive into the old generation, and GC cost more than hashing).
  let chunk = '';
  for (let i = 0; i < files.length; i++) {
    chunk += line(files[i]!);
    if (chunk.length > 1 << 16) {
      take(chunk);
      chunk = '';
    }
  }
  take(chunk);
}

/**
 * Whether the manifest lines of `files` are in sorted order, checked on the paths alone (no line
 * strings made). Sorted paths give sorted lines, except where one path is a prefix of the next and
 * the next continues with a character below the tab (\0..\b): then the shorter line sorts last.
 */
function linesSorted(files: readonly FileHash[]): boolean {
  for (let i = 1; i < files.length; i++) {
    const a = files[i - 1]!.path;
    const b = files[i]!.path;
    if (a >= b) return false;
    if (b.startsWith(a) && b.charCodeAt(a.length) < TAB) return false;
  }
  return true;
}

const TAB = 9;

/** Every regular file under a workspace-relative folder, workspace-relative POSIX, sorted. */
export function listFolder(workspace: string, rel: string): string[] {
  const files: string[] = [];
  walkFolder(workspace, rel, (path) => files.push(path));
  return files;
}

/**
 * Hands every regular file under a workspace-relative folder to `each`, workspace-relative POSIX,
 * in sorted (code-unit) order, as it is found: a caller that only digests the files keeps none.
 * Depth-first by hand: plain string concatenation, no path.join per entry. A symlink to a file
 * counts as that file; symlinked folders are not followed (no cycles), other entries skipped.
 *
 * WHY no sort of the whole list: each folder's entries are sorted by name, a folder's as `name/`.
 * Two paths first differ inside the names of the entries they pass through in the first folder
 * they do not share, or where one name is a prefix of the other; there `name/` against the other
 * name decides exactly as the whole paths do. So this order is the sorted order of the full paths,
 * found sorting a folder at a time (at 1,000,000 files the full sort was seconds of a no-op).
 */
export function walkFolder(workspace: string, rel: string, each: (path: string) => void): void {
  walkKeys(workspace, rel, folderKeys(workspace, rel), each);
}

/**
 * The entries of one workspace-relative folder as walkFolder orders them: a file (or a symlink to
 * one) as `name`, a folder as `name/`, sorted; anything else left out.
 */
export function folderKeys(workspace: string, dir: string): string[] {
  const keys: string[] = [];
  const { names, kinds } = dirEntries()(`${workspace}/${dir}`);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const kind = kinds[i];
    if (kind === 'file') keys.push(name);
    else if (kind === 'folder') keys.push(`${name}/`);
    else if (
      kind === 'symlink' &&
      statSync(`${workspace}/${dir}/${name}`, { throwIfNoEntry: false })?.isFile()
    ) {
      keys.push(name);
    }
  }
  return keys.sort();
}

/** walkFolder over some of `dir`'s keys (folderKeys, in their order): a part of the folder. */
export function walkKeys(
  workspace: string,
  dir: string,
  keys: readonly string[],
  each: (path: string) => void,
): void {
  for (const key of keys) {
    if (key.endsWith('/')) {
      const sub = `${dir}/${key.slice(0, -1)}`;
      walkKeys(workspace, sub, folderKeys(workspace, sub), each);
    } else each(`${dir}/${key}`);
  }
}

export function sum(files: readonly FileHash[]): number {
  let total = 0;
  for (const f of files) total += f.size;
  return total;
}
