// The pipeline.lock fingerprints the report prints, read at run time.
// pipeline.lock is deliberately NOT a dep of the report stage: the runner rewrites it after every
// stage (the report's own entry included), so as a dep it would make the report stale after each
// build of itself, a cycle. The page shows the fingerprints as they were when it was built; an
// upstream re-run with identical outputs (early cutoff) leaves the report fresh with older ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export type LockFingerprints =
  | { readonly status: 'absent' }
  | { readonly status: 'unreadable'; readonly reason: string }
  | { readonly status: 'read'; readonly fingerprints: Readonly<Record<string, string>> };

/**
 * Stage name -> fingerprint for every stage but `self` (its entry is the previous build's, not this
 * one's). Accepts `stages` as a map (name -> entry) or a list of entries with `name`; YAML or JSON.
 */
export function readLockFingerprints(workspace: string, self: string): LockFingerprints {
  let text: string;
  try {
    text = readFileSync(join(workspace, 'pipeline.lock'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'absent' };
    throw error;
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    return { status: 'unreadable', reason: (error as Error).message.split('\n')[0] ?? 'parse error' };
  }
  const stages = (doc as { stages?: unknown } | null)?.stages;
  const entries: [string, unknown][] = Array.isArray(stages)
    ? stages.map((e) => [String((e as { name?: unknown }).name), e])
    : typeof stages === 'object' && stages !== null
      ? Object.entries(stages)
      : [];
  const fingerprints: Record<string, string> = {};
  for (const [name, entry] of entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    const fp = (entry as { fingerprint?: unknown } | null)?.fingerprint;
    if (name !== self && typeof fp === 'string') fingerprints[name] = fp;
  }
  if (entries.length === 0) return { status: 'unreadable', reason: 'no "stages" entries found' };
  return { status: 'read', fingerprints };
}
