// The pipeline.lock fingerprints the report prints, read at run time.
// pipeline.lock is deliberately NOT a dep of the report stage: the runner rewrites it after every
// stage (the report's own entry included), so as a dep it would make the report stale after each
// build of itself, a cycle. The page shows the fingerprints as they were when it was built; an
// upstream re-run with identical outputs (early cutoff) leaves the report fresh with older ones.
//
// The lock is read as the JSON docs/lock-file.md documents, not through lib/build/lockfile.ts:
// that module would put the lock writer and what it imports into every stage's import closure
// (every stage imports the stage API), so changing how the tool writes its lock would re-run every
// stage. It refuses what the tool's reader refuses, with the same words
// (test/lock-fingerprints.test.ts holds the two readers to that).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LockFingerprints =
  | { readonly status: 'absent' }
  | { readonly status: 'unreadable'; readonly reason: string }
  | { readonly status: 'read'; readonly fingerprints: Readonly<Record<string, string>> };

const LOCK_FILE = 'pipeline.lock';
/** The lock format this reader knows (docs/lock-file.md, `version`). */
const LOCK_VERSION = 1;
const SHA = /^[0-9a-f]{64}$/;

/** Stage name -> fingerprint, sorted, for every stage but `self` (its entry is the previous build's). */
export function readLockFingerprints(workspace: string, self: string): LockFingerprints {
  let text: string;
  try {
    text = readFileSync(join(workspace, LOCK_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent' };
    throw error;
  }
  const fix = 'restore it with `git checkout pipeline.lock`, or delete it to rebuild every stage';
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const reason = `${LOCK_FILE} is not valid JSON (${(error as Error).message}); ${fix}`;
    return { status: 'unreadable', reason };
  }
  const problem = lockProblem(data);
  if (problem !== undefined) {
    return { status: 'unreadable', reason: `${LOCK_FILE}: ${problem}; ${fix}` };
  }
  const stages = (data as { stages: Record<string, { fingerprint: string }> }).stages;
  const names = Object.keys(stages)
    .filter((name) => name !== self)
    .sort();
  return {
    status: 'read',
    fingerprints: Object.fromEntries(names.map((name) => [name, stages[name]!.fingerprint])),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The first way `data` is not the documented lock (the table in docs/lock-file.md). */
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
      for (const [pkg, v] of Object.entries(entry.packages)) {
        if (v !== null && typeof v !== 'string')
          return `${at}.packages[${JSON.stringify(pkg)}] must be a version string or null`;
      }
    }
    for (const field of ['deps', 'outs'] as const) {
      for (const [p, v] of Object.entries(entry[field] as object)) {
        const bad = pathProblem(`${at}.${field}[${JSON.stringify(p)}]`, v);
        if (bad !== undefined) return bad;
      }
    }
  }
  return undefined;
}

/** A file is `{sha256, size}`; a folder or glob adds `files`. */
function pathProblem(where: string, v: unknown): string | undefined {
  if (!isObject(v) || typeof v.sha256 !== 'string' || !SHA.test(v.sha256)) {
    return `${where} must be {sha256, size[, files]}`;
  }
  if (typeof v.size !== 'number') return `${where} must be {sha256, size[, files]}`;
  if (v.files !== undefined && typeof v.files !== 'number')
    return `${where}.files must be a number`;
  return undefined;
}
