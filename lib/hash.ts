// Streamed content hashes of files, folders and globs (sha256 via node:crypto).
// FIRST VERSION: correct and simple; the state cache and parallel hashing plug in through HashCache.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import fg from 'fast-glob';

/** Lower-case hex sha256 of some content. Branded so it never mixes with other strings. */
export type Sha256Hex = string & { readonly __brand: 'Sha256Hex' };

/** What the state cache keys a file's hash on: if any of these change, the file is rehashed. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ino: bigint;
}

/** Remembers hashes by stamp so unchanged files are not re-read (see state-cache.ts). */
export interface HashCache {
  lookup(absPath: string, stamp: FileStamp): Sha256Hex | undefined;
  remember(absPath: string, stamp: FileStamp, sha256: Sha256Hex): void;
}

export const noHashCache: HashCache = {
  lookup: () => undefined,
  remember: () => {},
};

/** One file, with its workspace-relative POSIX path. */
export interface FileHash {
  readonly path: string;
  readonly sha256: Sha256Hex;
  readonly size: number;
}

/**
 * The hash of a declared dep or out. A folder or glob hashes to its manifest hash: sha256 over
 * the lines `<path relative to the folder or workspace>\t<sha256>\t<size>\n`, sorted by path in
 * code-unit order, so renaming, adding or removing a file changes it as much as editing one.
 */
export type PathHash =
  | { readonly kind: 'file'; readonly path: string; readonly sha256: Sha256Hex; readonly size: number }
  | {
      readonly kind: 'dir' | 'glob';
      readonly path: string;
      readonly sha256: Sha256Hex;
      readonly size: number;
      readonly files: readonly FileHash[];
    }
  | { readonly kind: 'missing'; readonly path: string };

export function sha256OfString(text: string): Sha256Hex {
  return createHash('sha256').update(text).digest('hex') as Sha256Hex;
}

export function isGlob(declared: string): boolean {
  return fg.isDynamicPattern(declared);
}

export async function hashFile(absPath: string): Promise<Sha256Hex> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex') as Sha256Hex;
}

/** Manifest hash of files whose `path` is relative to `base` (a folder, or '' for a glob). */
export function manifestHash(files: readonly FileHash[], base: string): Sha256Hex {
  const prefix = base === '' ? '' : base + '/';
  const lines = files
    .map((f) => `${f.path.slice(prefix.length)}\t${f.sha256}\t${f.size}\n`)
    .sort();
  return sha256OfString(lines.join(''));
}

async function hashWithCache(workspace: string, rel: string, cache: HashCache): Promise<FileHash> {
  const abs = join(workspace, rel);
  const st = await lstat(abs, { bigint: true });
  const stamp: FileStamp = { size: Number(st.size), mtimeNs: st.mtimeNs, ino: st.ino };
  let sha = cache.lookup(abs, stamp);
  if (sha === undefined) {
    sha = await hashFile(abs);
    cache.remember(abs, stamp, sha);
  }
  return { path: rel, sha256: sha, size: stamp.size };
}

async function listFolder(workspace: string, rel: string): Promise<string[]> {
  const entries = await readdir(join(workspace, rel), { recursive: true, withFileTypes: true });
  const files: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const parent = (e.parentPath ?? (e as unknown as { path: string }).path).slice(workspace.length + 1);
    files.push(posix.join(parent.split('\\').join('/'), e.name));
  }
  return files.sort();
}

export async function hashPath(workspace: string, declared: string, cache: HashCache = noHashCache): Promise<PathHash> {
  if (isGlob(declared)) {
    const matches = (await fg(declared, { cwd: workspace, onlyFiles: true, dot: false })).sort();
    const files = await Promise.all(matches.map((rel) => hashWithCache(workspace, rel, cache)));
    return { kind: 'glob', path: declared, sha256: manifestHash(files, ''), size: sum(files), files };
  }
  let st;
  try {
    st = await lstat(join(workspace, declared));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', path: declared };
    throw error;
  }
  if (st.isDirectory()) {
    const rels = await listFolder(workspace, declared);
    const files = await Promise.all(rels.map((rel) => hashWithCache(workspace, rel, cache)));
    return { kind: 'dir', path: declared, sha256: manifestHash(files, declared), size: sum(files), files };
  }
  const file = await hashWithCache(workspace, declared, cache);
  return { kind: 'file', path: declared, sha256: file.sha256, size: file.size };
}

function sum(files: readonly FileHash[]): number {
  let total = 0;
  for (const f of files) total += f.size;
  return total;
}
