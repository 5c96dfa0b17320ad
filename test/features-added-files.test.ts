// features' added files (docs/data-tables.md, data/features/): a user who becomes kept gets the
// sequences of their sessions in unchanged parts as `sequences/<part>+<n>.parquet`, not a rewrite
// of those parts; a user dropped again, or a part at 8 added files, makes the part whole again.
// Each step runs keypairs and features incrementally in one workspace (as the runner would: the
// previous outputs linked into the temp out, PIPE_INCREMENTAL naming the changed dep files) and
// from scratch in another; the sequences must be the same multiset of rows (EXCEPT ALL both ways).
// The scenario is built so that the two differ if an added file held anything but the newly kept
// users' sessions: part 0 always holds sessions of user `kept`, kept from the start; and user e
// becomes kept with sessions in two unchanged parts, which gain their added files at once.
//
//   part-000000: kept x3, b x2, d1..d9 x2      part-000001: c x1     then one part per step
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asRunnerWould,
  compareTables,
  fileHashes,
  type KeystrokeRow,
  partId,
  tableFiles,
  writeKeystrokesPart,
} from './helpers/parts-rig.js';
import { runStage, STAGES, type StageSpec } from './helpers/run-stage.js';
import { tempWorkspace } from './helpers/stage-workspace.js';

const M = 4;
const params = { 'features.sequence_length': M, 'features.min_sessions_per_user': 3 };
const keypairs: StageSpec = STAGES.keypairs;
const features: StageSpec = { ...STAGES.features, params };

let sessionNo = 0;
/**
 * One web-app session of `user`: 6 keystrokes (5 pairs, truncated at M) or, every other session, 3
 * (2 pairs, then padding: a padding position must not take the next session's pair).
 */
function session(user: string): KeystrokeRow[] {
  const id = `s${String(++sessionNo).padStart(3, '0')}`;
  return Array.from({ length: sessionNo % 2 === 0 ? 3 : 6 }, (_, i) => ({
    source: 'webapp' as const,
    platform: 'desktop' as const,
    user_id: user,
    session_id: id,
    press_ms: 1_000_000 + sessionNo * 10_000 + i * 150,
    release_ms: 1_000_000 + sessionNo * 10_000 + i * 150 + 80 + i,
    keycode: 65 + i,
  }));
}

const inc = tempWorkspace();
const full = tempWorkspace();
afterAll(() => {
  for (const ws of [inc, full]) ws.remove();
});

const seen = new Map<string, Map<string, string>>();
/** Runs `spec` in `inc` incrementally (from scratch the first time); returns its stdout. */
function runIncremental(spec: StageSpec, dep: string): string {
  const now = fileHashes(inc.root, dep);
  const before = seen.get(spec.stage);
  const run = runStage(inc.root, asRunnerWould(spec, dep, before, now));
  expect(run.status, run.stderr).toBe(0);
  seen.set(spec.stage, now);
  return run.stdout;
}

/** Both stages in both workspaces; returns features' incremental stdout. */
async function buildBoth(): Promise<string> {
  runIncremental(keypairs, 'data/clean');
  const out = runIncremental(features, 'data/keypairs');
  rmSync(join(full.root, 'data'), { recursive: true, force: true });
  cpSync(join(inc.root, 'data/clean'), join(full.root, 'data/clean'), { recursive: true });
  for (const spec of [keypairs, features]) expect(runStage(full.root, spec).status).toBe(0);
  const diff = await compareTables(
    inc,
    tableFiles(inc.root, 'data/features/sequences'),
    tableFiles(full.root, 'data/features/sequences'),
  );
  expect(diff.rowsA).toBeGreaterThan(0);
  expect(diff).toEqual({ ...diff, rowsB: diff.rowsA, onlyA: 0, onlyB: 0 });
  expect(inc.json('data/features/summary.json')).toEqual(full.json('data/features/summary.json'));
  await expectAddedFilesInOrder();
  return out;
}

/**
 * Every added file in the promised order, read in its own row order (no ORDER BY): sessions in
 * (source, user_id, session_id) order, each one run of positions 0 .. M-1. features checks the
 * order of the whole parts it writes, not of its added files (their query sorts).
 */
async function expectAddedFilesInOrder(): Promise<void> {
  const folder = join(inc.root, 'data/features/sequences');
  for (const name of readdirSync(folder).filter((n) => n.includes('+'))) {
    const rows = await inc.query<{ key: string; position: number }>(
      `SELECT concat_ws(' ', source, user_id, session_id) AS key, position
       FROM read_parquet('${join(folder, name)}')`,
    );
    const keys = rows.filter((_, i) => i % M === 0).map((r) => r.key);
    expect(keys, name).toEqual([...new Set(keys)].sort());
    expect(
      rows.map((r) => r.position),
      name,
    ).toEqual(keys.flatMap(() => Array.from({ length: M }, (_, i) => i)));
    expect(
      rows.map((r) => r.key),
      name,
    ).toEqual(keys.flatMap((k) => Array(M).fill(k)));
  }
}

const sequences = () => readdirSync(join(inc.root, 'data/features/sequences')).sort();
const mtime = (name: string) => statSync(join(inc.root, 'data/features/sequences', name)).mtimeMs;
let nextPart = 0;
const addPart = (rows: KeystrokeRow[]) =>
  writeKeystrokesPart(inc, `data/clean/keystrokes/${partId(nextPart++)}.parquet`, rows);

describe('features: users kept later go to added files', () => {
  it('adds only their sessions, rewrites a part whole when a user is dropped or at 8 added files', async () => {
    const ds = Array.from({ length: 9 }, (_, i) => `d${i + 1}`);
    await addPart([
      ...['kept', 'kept', 'kept', 'b', 'b'].flatMap(session),
      ...ds.flatMap((d) => [...session(d), ...session(d)]),
    ]);
    await addPart(session('c'));
    await buildBoth();
    expect(sequences()).toEqual(['part-000000.parquet', 'part-000001.parquet']);
    const whole = mtime('part-000000.parquet');

    // b's third session arrives: b is kept; part 0 keeps its file and gains b's two sessions.
    await addPart(session('b'));
    expect(await buildBoth()).toContain('1 written, 1 added to, 0 removed');
    expect(sequences()).toEqual([
      'part-000000+1.parquet',
      'part-000000.parquet',
      'part-000001.parquet',
      'part-000002.parquet',
    ]);
    expect(mtime('part-000000.parquet')).toBe(whole);
    const [added] = await inc.query<{ users: string; rows: number }>(
      `SELECT string_agg(DISTINCT user_id, ',')::VARCHAR AS users, count(*)::INTEGER AS rows
       FROM read_parquet('${join(inc.root, 'data/features/sequences/part-000000+1.parquet')}')`,
    );
    expect(added).toEqual({ users: 'b', rows: 2 * M });

    // That session deleted: b is dropped again, part 0 is written whole, its added file gone.
    rmSync(join(inc.root, 'data/clean/keystrokes/part-000002.parquet'));
    expect(await buildBoth()).toContain('1 written, 0 added to, 1 removed');
    expect(sequences()).toEqual(['part-000000.parquet', 'part-000001.parquet']);

    // d1..d8 reach 3 sessions one by one: part 0 gathers 8 added files; d9 makes it whole again.
    for (const [i, d] of ds.entries()) {
      await addPart(session(d));
      await buildBoth();
      const addedFiles = sequences().filter((n) => n.startsWith('part-000000+'));
      expect(addedFiles.length, `after ${d}`).toBe(i < 8 ? i + 1 : 0);
    }

    // e's first two sessions in two parts, then a third: both parts gain an added file at once,
    // each with its own session of e only.
    const first = nextPart;
    for (let i = 0; i < 2; i++) {
      await addPart(session('e'));
      await buildBoth();
    }
    await addPart(session('e'));
    expect(await buildBoth()).toContain('2 added to');
    for (const part of [first, first + 1]) {
      const [added] = await inc.query<{ users: string; rows: number }>(
        `SELECT string_agg(DISTINCT user_id, ',')::VARCHAR AS users, count(*)::INTEGER AS rows
         FROM read_parquet('${join(inc.root, `data/features/sequences/${partId(part)}+1.parquet`)}')`,
      );
      expect(added).toEqual({ users: 'e', rows: M });
    }
  }, 300_000);
});
