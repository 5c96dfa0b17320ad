// The pipeline.lock fingerprints the report prints, read at run time with the tool's own reader.
// pipeline.lock is deliberately NOT a dep of the report stage: the runner rewrites it after every
// stage (the report's own entry included), so as a dep it would make the report stale after each
// build of itself, a cycle. The page shows the fingerprints as they were when it was built; an
// upstream re-run with identical outputs (early cutoff) leaves the report fresh with older ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE, parseLock } from '../build/lockfile.js';

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
  const lock = parseLock(text);
  if (!lock.ok) return { status: 'unreadable', reason: lock.message };
  const names = Object.keys(lock.value.stages)
    .filter((name) => name !== self)
    .sort();
  return {
    status: 'read',
    fingerprints: Object.fromEntries(
      names.map((name) => [name, lock.value.stages[name]!.fingerprint]),
    ),
  };
}
