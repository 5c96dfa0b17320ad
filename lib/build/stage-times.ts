// `.pipe/stage-times.json`: how long each stage last ran here, with the fingerprint it ran for,
// so `pipe push` can publish processing times. Kept out of pipeline.lock on purpose: the lock is
// committed and must be byte-identical for identical inputs, and a duration never is.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface StageTime {
  readonly fingerprint: string;
  readonly durationMs: number;
}

const FILE = '.pipe/stage-times.json';

export function readStageTimes(workspace: string): Record<string, StageTime> {
  try {
    const data: unknown = JSON.parse(readFileSync(join(workspace, FILE), 'utf8'));
    return typeof data === 'object' && data !== null && !Array.isArray(data)
      ? (data as Record<string, StageTime>)
      : {};
  } catch {
    return {}; // missing or damaged: durations are informational only
  }
}

/** Merges `times` into the record (read-modify-write: callers hold the build mutex). */
export async function recordStageTimes(
  workspace: string,
  times: Readonly<Record<string, StageTime>>,
): Promise<void> {
  if (Object.keys(times).length === 0) return;
  await writeFileAtomic(
    join(workspace, FILE),
    `${JSON.stringify({ ...readStageTimes(workspace), ...times }, null, 2)}\n`,
  );
}
