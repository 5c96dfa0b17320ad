// The pipeline.lock fingerprints the report prints, read at run time.
// pipeline.lock is deliberately NOT a dep of the report stage: the runner rewrites it after every
// stage (the report's own entry included), so as a dep it would make the report stale after each
// build of itself, a cycle. The page shows the fingerprints as they were when it was built; an
// upstream re-run with identical outputs (early cutoff) leaves the report fresh with older ones.
//
// The lock is read as the JSON docs/lock-file.md documents, not through lib/build/lockfile.ts:
// that module would put the lock writer and what it imports into every stage's import closure
// (every stage imports the stage API), so changing how the tool writes its lock would re-run every
// stage. Both readers check the shape with pipeline/lock-format.ts, so they refuse the same files
// with the same words (test/lock-fingerprints.test.ts holds them to that).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, lockProblem } from '../pipeline/lock-format.js';

export type LockFingerprints =
  | { readonly status: 'absent' }
  | { readonly status: 'unreadable'; readonly reason: string }
  | { readonly status: 'read'; readonly fingerprints: Readonly<Record<string, string>> };

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
