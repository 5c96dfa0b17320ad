// The shapes the hashing modules and their callers share: a file's stamp, the cache interface,
// a hashed path. Types and constants only, so the hashers can import them without a circle.
import type { Sha256Hex } from '../util/sha256.js';
import type { FolderEntry } from './folder-stamps.js';

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
  /** `statTimeMs`: the clock reading taken just BEFORE `stamp` (stat-clock.ts clockBeforeStats). */
  remember(absPath: string, stamp: FileStamp, sha256: Sha256Hex, statTimeMs: number): void;
  /** A big folder's entry: its hash, when its files' stamps digest to `stamps` (folder-stamps.ts). */
  folder?(rel: string): FolderEntry | undefined;
  /**
   * Records a folder's entry (undefined forgets it). The caller has applied the racy-file rule
   * per part: a part whose stamps were too new carries UNTRUSTED, not its digest.
   */
  rememberFolder?(rel: string, entry: FolderEntry | undefined): void;
}

/**
 * Folders of at least this many files are statted on worker threads (hash-folder.ts); below it
 * the workers' start (~30 ms) and the messages cost more than they save. From 10,000 on, the
 * digests of unchanged parts also save the per-file lookups and the manifest made again: a no-op
 * `pipe status` of two 16,107-file Aalto folders took ~0.25 s less than with 20,000 here.
 */
export const WORKER_WALK_MIN = 10_000;

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
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly sha256: Sha256Hex;
      readonly size: number;
    }
  | {
      readonly kind: 'dir' | 'glob';
      readonly path: string;
      readonly sha256: Sha256Hex;
      readonly size: number;
      readonly files: readonly FileHash[];
      /**
       * How many `files`, when known without making them: a lazy list is made from a stored
       * manifest (30 MB at 241,605 files) that a file count alone should not have to parse.
       */
      readonly count?: number;
    }
  | { readonly kind: 'missing'; readonly path: string };

/** How many files a folder or glob hash holds, without making a lazy `files` when it says. */
export function fileCount(h: Extract<PathHash, { readonly files: readonly FileHash[] }>): number {
  return h.count ?? h.files.length;
}

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

/** A file whose stamp the cache could not answer for: it must be read. */
export interface Miss {
  readonly index: number;
  readonly abs: string;
  readonly stamp: FileStamp;
}
