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
import { createReadStream, readdirSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { FolderEntry } from './folder-stamps.js';
import { mapConcurrent } from './worker-pool.js';

/** Lower-case hex sha256 of some content. Branded so it never mixes with other strings. */
export type Sha256Hex = string & { readonly __brand: 'Sha256Hex' };

/**
 * What the state cache keys a file's hash on: if any of these change, the file is rehashed.
 * Plain numbers, not BigInt stats: at 100,000 files the BigInt variant's allocations cost more
 * than the stats themselves. `mtimeMs` is a double with sub-microsecond resolution, which is
 * enough: a later write moves mtime by at least the racy window (state-cache.ts), not by 1 ns.
 */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  /**
   * The device the inode is on. Not part of what the state file stores per path; with `ino` it
   * names the file itself, so a hard link of a file hashed in this process is answered by that
   * hash (state-cache.ts).
   */
  readonly dev: number;
}

/** Numbers per file in a worker's stamp batch (hash-worker.ts): size, mtimeMs, ino, dev. */
export const STAMP_FIELDS = 4;

/** Remembers hashes by stamp so unchanged files are not re-read (see state-cache.ts). */
export interface HashCache {
  lookup(absPath: string, stamp: FileStamp): Sha256Hex | undefined;
  /** `statTimeMs`: the wall clock read just BEFORE `stamp` was taken (for the racy-file rule). */
  remember(absPath: string, stamp: FileStamp, sha256: Sha256Hex, statTimeMs: number): void;
  /** A big folder's entry: its hash, when its files' stamps digest to `stamps` (folder-stamps.ts). */
  folder?(rel: string): FolderEntry | undefined;
  /**
   * Records a folder's entry (undefined forgets it); kept only if `newestMtimeMs` is not racy.
   * True when the entry was kept.
   */
  rememberFolder?(rel: string, entry: FolderEntry | undefined, newestMtimeMs: number, statTimeMs: number): boolean;
}

/**
 * Folders of at least this many files are statted on worker threads (hash-folder.ts); below it
 * the workers' start (~30 ms) and the messages cost more than they save.
 */
export const WORKER_WALK_MIN = 20_000;

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
 * A big folder's `files` may be made when first read (hash-folder.ts storedFolder).
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

/** Counters a command can report (status --json shows them; the benchmark reads them). */
export interface HashStats {
  /** Files whose metadata was read. */
  statted: number;
  /** Files whose content was read and hashed because the cache could not answer. */
  hashed: number;
}

export function newHashStats(): HashStats {
  return { statted: 0, hashed: 0 };
}

/**
 * Files at most this big are read in one call; bigger ones are streamed so memory stays flat.
 * 1 MiB: one read syscall's worth, well below what hurts with 64 reads in flight.
 */
const WHOLE_READ_MAX = 1 << 20;
/** Reads in flight: enough to keep libuv's 4 threads and the disk queue busy, far below EMFILE. */
const READ_CONCURRENCY = 64;
/**
 * Files at least this big are hashed on worker threads (hash-threads.ts): at 16 MiB the hashing
 * (~15 ms) dwarfs the message round trip (~0.1 ms), and few files are this big.
 */
const THREAD_MIN = 16 << 20;

/**
 * At least this many files to read go to worker threads in batches (hash-threads.ts): sync
 * open/read/close there beats promise readFile's thread-pool round trips (bench/noop-large.ts,
 * cold status); below it the workers' start (~30 ms) is not worth it.
 */
const WORKER_BATCH_MIN = 256;

export function sha256OfString(text: string): Sha256Hex {
  return createHash('sha256').update(text).digest('hex') as Sha256Hex;
}

/**
 * fast-glob with its dependencies costs ~30 ms to load, more than a 1,000-file status spends on
 * stats; most pipelines name only plain paths, so it is loaded on first need.
 */
export function fastGlob(): typeof import('fast-glob') {
  return createRequire(import.meta.url)('fast-glob') as typeof import('fast-glob');
}

/**
 * Characters without which fast-glob's isDynamicPattern is false: every rule it has needs one of
 * them (`*` `?` `\\`, a leading `!`, `[..]`, `(..)` groups and extglobs, `{..}` braces).
 */
const MAYBE_GLOB = /[*?\\[({]|^!/;

export function isGlob(declared: string): boolean {
  return MAYBE_GLOB.test(declared) && fastGlob().isDynamicPattern(declared);
}

export async function hashFile(absPath: string, size = Infinity): Promise<Sha256Hex> {
  if (size <= WHOLE_READ_MAX) {
    return createHash('sha256').update(await readFile(absPath)).digest('hex') as Sha256Hex;
  }
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(absPath, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex') as Sha256Hex;
}

/** Manifest hash of files whose `path` is relative to `base` (a folder, or '' for a glob). */
export function manifestHash(files: readonly FileHash[], base: string): Sha256Hex {
  const cut = base === '' ? 0 : base.length + 1;
  const line = (f: FileHash): string => `${f.path.slice(cut)}\t${f.sha256}\t${f.size}\n`;
  if (!linesSorted(files)) return sha256OfString(files.map(line).sort().join(''));
  // Our listings come sorted: hash the lines in chunks as they are made, so 100,000 line strings
  // never live at once (they would survive into the old generation, and GC cost more than hashing).
  const hash = createHash('sha256');
  let chunk = '';
  for (let i = 0; i < files.length; i++) {
    chunk += line(files[i]!);
    if (chunk.length > 1 << 16) {
      hash.update(chunk);
      chunk = '';
    }
  }
  return hash.update(chunk).digest('hex') as Sha256Hex;
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

function stampOf(st: Stats): FileStamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

/** A file whose stamp the cache could not answer for: it must be read. */
export interface Miss {
  readonly index: number;
  readonly abs: string;
  readonly stamp: FileStamp;
}

/**
 * Hashes workspace-relative files: stat each, ask the cache, read only the misses. The result is
 * in the order of `rels`.
 */
export async function hashFiles(
  workspace: string,
  rels: readonly string[],
  cache: HashCache,
  stats: HashStats = newHashStats(),
): Promise<FileHash[]> {
  const out: FileHash[] = new Array<FileHash>(rels.length);
  const misses: Miss[] = [];
  const statTimeMs = Date.now();
  for (let index = 0; index < rels.length; index++) {
    const rel = rels[index]!;
    // `rel` is normalised POSIX (validated in pipeline.yaml, or listed by us): no join needed.
    const abs = `${workspace}/${rel}`;
    // stat, not lstat: a symlinked dep is hashed by its target's content, so its stamp must be too.
    const stamp = stampOf(statSync(abs));
    stats.statted++;
    const known = cache.lookup(abs, stamp);
    if (known !== undefined) out[index] = { path: rel, sha256: known, size: stamp.size };
    else misses.push({ index, abs, stamp });
  }
  await hashMisses(rels, misses, out, cache, stats, statTimeMs);
  return out;
}

/** Reads and hashes `misses`, fills their slots in `out` and tells the cache. */
export async function hashMisses(
  rels: readonly string[],
  misses: readonly Miss[],
  out: FileHash[],
  cache: HashCache,
  stats: HashStats,
  statTimeMs: number,
): Promise<void> {
  const record = (miss: Miss, sha: Sha256Hex): void => {
    stats.hashed++;
    cache.remember(miss.abs, miss.stamp, sha, statTimeMs);
    out[miss.index] = { path: rels[miss.index]!, sha256: sha, size: miss.stamp.size };
  };
  if (misses.length >= WORKER_BATCH_MIN) {
    const { hashFilesOnWorkers } = await import('./hash-threads.js');
    await hashFilesOnWorkers(misses.map((m) => m.abs), (start, shas) => {
      for (let k = 0; k < shas.length; k++) record(misses[start + k]!, shas[k]!);
    });
    return;
  }
  await mapConcurrent(misses, READ_CONCURRENCY, async (miss) => {
    const sha =
      miss.stamp.size >= THREAD_MIN
        ? await (await import('./hash-threads.js')).hashFileOnWorker(miss.abs)
        : await hashFile(miss.abs, miss.stamp.size);
    record(miss, sha);
  });
}

/** Every regular file under a workspace-relative folder, workspace-relative POSIX, sorted. */
export function listFolder(workspace: string, rel: string): string[] {
  const files: string[] = [];
  // Depth-first by hand: plain string concatenation, no path.join per entry. A symlink to a file
  // counts as that file; symlinked folders are not followed (no cycles), other entries skipped.
  const walk = (dir: string): void => {
    for (const e of readdirSync(`${workspace}/${dir}`, { withFileTypes: true })) {
      if (e.isFile()) files.push(`${dir}/${e.name}`);
      else if (e.isDirectory()) walk(`${dir}/${e.name}`);
      else if (e.isSymbolicLink() && statSync(`${workspace}/${dir}/${e.name}`, { throwIfNoEntry: false })?.isFile()) {
        files.push(`${dir}/${e.name}`);
      }
    }
  };
  walk(rel);
  return files.sort();
}

export async function hashPath(
  workspace: string,
  declared: string,
  cache: HashCache = noHashCache,
  stats: HashStats = newHashStats(),
): Promise<PathHash> {
  if (isGlob(declared)) {
    const matches = (await fastGlob()(declared, { cwd: workspace, onlyFiles: true, dot: false })).sort();
    const files = await hashFiles(workspace, matches, cache, stats);
    return { kind: 'glob', path: declared, sha256: manifestHash(files, ''), size: sum(files), files };
  }
  let st;
  try {
    st = statSync(join(workspace, declared));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', path: declared };
    throw error;
  }
  if (st.isDirectory()) {
    // Big folders on worker threads (hash-folder.ts): known big from their folder entry (then even
    // the walk runs there), or found big by walking here.
    const big = async (listed?: string[]) => (await import('./hash-folder.js')).hashBigFolder(workspace, declared, cache, stats, listed);
    if ((cache.folder?.(declared)?.files ?? 0) >= WORKER_WALK_MIN) return big();
    const rels = listFolder(workspace, declared);
    if (rels.length >= WORKER_WALK_MIN && cache.folder !== undefined) return big(rels);
    const files = await hashFiles(workspace, rels, cache, stats);
    return { kind: 'dir', path: declared, sha256: manifestHash(files, declared), size: sum(files), files };
  }
  const [file] = await hashFiles(workspace, [declared], cache, stats);
  return { kind: 'file', path: declared, sha256: file!.sha256, size: file!.size };
}

export function sum(files: readonly FileHash[]): number {
  let total = 0;
  for (const f of files) total += f.size;
  return total;
}
