// pipeline.lock: per stage, the fingerprint and the hashes it was built from and produced. It is
// committed to git, so it is deterministic JSON: keys sorted at every level, two-space indent,
// one fact per line, a trailing newline. Two builds of the same inputs write identical bytes,
// and a diff shows exactly which stage changed and how.
//
// Folder outs and deps keep only their manifest hash, file count and size here; the per-file list
// lives in `.pipe/manifests/<sha>.json` (manifest-store.ts) so the lock stays small.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Fingerprint } from './fingerprint.js';
import type { PathHash } from '../observe/types.js';
import type { Sha256Hex } from '../util/sha256.js';

/** The lock file's format. A newer file is refused (written by a newer pipe), never guessed at. */
export const LOCK_VERSION = 1;
export const LOCK_FILE = 'pipeline.lock';

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
  return { version: LOCK_VERSION, stages: {} };
}

export function lockedPath(hash: Exclude<PathHash, { kind: 'missing' }>): LockedPath {
  return hash.kind === 'file'
    ? { sha256: hash.sha256, size: hash.size }
    : { sha256: hash.sha256, size: hash.size, files: hash.files.length };
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
    data = JSON.parse(text);
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const SHA = /^[0-9a-f]{64}$/;

function pathProblem(where: string, v: unknown): string | undefined {
  if (
    !isObject(v) ||
    typeof v.sha256 !== 'string' ||
    !SHA.test(v.sha256) ||
    typeof v.size !== 'number'
  ) {
    return `${where} must be {sha256, size[, files]}`;
  }
  if (v.files !== undefined && typeof v.files !== 'number')
    return `${where}.files must be a number`;
  return undefined;
}

/** The first structural problem of a parsed lock file, or undefined when it is well formed. */
function lockProblem(data: unknown): string | undefined {
  if (!isObject(data)) return 'the top level must be an object';
  if (data.version !== LOCK_VERSION) {
    return typeof data.version === 'number' && data.version > LOCK_VERSION
      ? `format version ${data.version} was written by a newer pipe (this one reads ${LOCK_VERSION}); upgrade pipe`
      : `unknown format version ${JSON.stringify(data.version)}`;
  }
  if (!isObject(data.stages)) return '"stages" must be an object';
  for (const [name, entry] of Object.entries(data.stages)) {
    const at = `stages.${name}`;
    if (!isObject(entry)) return `${at} must be an object`;
    if (typeof entry.fingerprint !== 'string' || !SHA.test(entry.fingerprint))
      return `${at}.fingerprint must be a sha256`;
    for (const field of ['cmd', 'deps', 'params', 'env', 'outs'] as const) {
      if (!isObject(entry[field])) return `${at}.${field} must be an object`;
    }
    if (entry.packages !== undefined) {
      if (!isObject(entry.packages)) return `${at}.packages must be an object`;
      for (const [name, v] of Object.entries(entry.packages)) {
        if (v !== null && typeof v !== 'string')
          return `${at}.packages[${JSON.stringify(name)}] must be a version string or null`;
      }
    }
    for (const [p, v] of Object.entries(entry.deps as object)) {
      const bad = pathProblem(`${at}.deps[${JSON.stringify(p)}]`, v);
      if (bad !== undefined) return bad;
    }
    for (const [p, v] of Object.entries(entry.outs as object)) {
      const bad = pathProblem(`${at}.outs[${JSON.stringify(p)}]`, v);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

/** Deep copy with object keys sorted; arrays keep their order (it can be meaningful). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
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
  const stages: Record<string, LockEntry> = { ...lock.stages };
  if (entry === undefined) delete stages[stage];
  else stages[stage] = entry;
  return { version: LOCK_VERSION, stages };
}
