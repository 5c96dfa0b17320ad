// pipeline.lock: per stage, the fingerprint and the hashes it was built from and produced. It is
// committed to git, so it is deterministic JSON: keys sorted at every level, two-space indent,
// one fact per line, a trailing newline. Two builds of the same inputs write identical bytes,
// and a diff shows exactly which stage changed and how.
//
// Folder outs and deps keep only their manifest hash, file count and size here; the per-file list
// lives in `.pipe/manifests/<sha>.json` (manifest-store.ts) so the lock stays small.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isObject, LOCK_FILE, LOCK_VERSION, lockProblem } from '../pipeline/lock-format.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { emptyRecord, parseJsonRecords, recordFrom } from '../util/records.js';
import type { Fingerprint } from './fingerprint.js';
import { fileCount, type PathHash } from '../observe/types.js';
import type { Sha256Hex } from '../util/sha256.js';

export { LOCK_FILE, LOCK_VERSION } from '../pipeline/lock-format.js';

/** A file: its sha256 and size. A folder or glob: its manifest hash, total size and file count. */
export interface LockedPath {
  readonly sha256: Sha256Hex;
  readonly size: number;
  /** Present for folders and globs only: how many files the manifest lists. */
  readonly files?: number;
}

export interface LockEntry {
  readonly fingerprint: Fingerprint;
  /**
   * The code the stage ran, path -> sha256: its script, the SQL beside it and every local file
   * of the script's import closure (build/code-deps.ts); empty for a command line.
   */
  readonly cmd: Readonly<Record<string, Sha256Hex>>;
  /**
   * Installed version of each package the code imports, name -> version (null: not installed).
   * Absent in entries written before pipe recorded packages.
   */
  readonly packages?: Readonly<Record<string, string | null>>;
  readonly deps: Readonly<Record<string, LockedPath>>;
  readonly params: Readonly<Record<string, unknown>>;
  /** Declared env inputs, name -> sha256 of the value (null: unset). Never the raw value. */
  readonly env: Readonly<Record<string, Sha256Hex | null>>;
  readonly outs: Readonly<Record<string, LockedPath>>;
  /** What the stage wrote to PIPE_METRICS_FILE (record counts), if anything. */
  readonly metrics?: Readonly<Record<string, unknown>>;
  /** Set by `pipe pull` when the outputs came from a published version rather than a local run. */
  readonly source?: { readonly version: string; readonly pushedBy: string };
}

export interface LockFile {
  readonly version: typeof LOCK_VERSION;
  readonly stages: Readonly<Record<string, LockEntry>>;
}

export type LockReadResult = { ok: true; value: LockFile } | { ok: false; message: string };

export function emptyLock(): LockFile {
  return { version: LOCK_VERSION, stages: emptyRecord<LockEntry>() };
}

export function lockedPath(hash: Exclude<PathHash, { kind: 'missing' }>): LockedPath {
  return hash.kind === 'file'
    ? { sha256: hash.sha256, size: hash.size }
    : { sha256: hash.sha256, size: hash.size, files: fileCount(hash) };
}

/** Reads and validates pipeline.lock; a missing file is an empty lock (nothing built yet). */
export function readLock(workspace: string): LockReadResult {
  const path = join(workspace, LOCK_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: emptyLock() };
    throw error;
  }
  return parseLock(text);
}

export function parseLock(text: string): LockReadResult {
  const fix = 'restore it with `git checkout pipeline.lock`, or delete it to rebuild every stage';
  let data: unknown;
  try {
    data = parseJsonRecords(text);
  } catch (error) {
    return {
      ok: false,
      message: `${LOCK_FILE} is not valid JSON (${(error as Error).message}); ${fix}`,
    };
  }
  const problem = lockProblem(data);
  if (problem !== undefined) return { ok: false, message: `${LOCK_FILE}: ${problem}; ${fix}` };
  return { ok: true, value: data as LockFile };
}

/** Deep copy with object keys sorted; arrays keep their order (it can be meaningful). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out = emptyRecord<unknown>();
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) out[key] = sortKeys(value[key]);
  }
  return out;
}

export function formatLock(lock: LockFile): string {
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`;
}

export async function writeLock(workspace: string, lock: LockFile): Promise<void> {
  await writeFileAtomic(join(workspace, LOCK_FILE), formatLock(lock));
}

/** A copy of `lock` with one stage's entry replaced (or removed when `entry` is undefined). */
export function withEntry(lock: LockFile, stage: string, entry: LockEntry | undefined): LockFile {
  const stages = recordFrom(Object.entries(lock.stages));
  if (entry === undefined) delete stages[stage];
  else stages[stage] = entry;
  return { version: LOCK_VERSION, stages };
}
