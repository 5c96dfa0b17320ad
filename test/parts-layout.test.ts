// keypairs, features and report on the partitioned layout (docs/data-tables.md): the 7 Aalto
// sample participants (15 sessions each) cleaned, then the clean output dealt into 4 parts by
// session, so every participant spans all 4 parts. The expected rows come from a second workspace
// holding the same clean rows as ONE part: partitioning must change no row, summary or count. And
// since each participant has 15 sessions but at most 4 in any one part, min_sessions_per_user = 15
// keeps them all only if the filter counts sessions over all parts (samples/aalto/readme.txt: 7
// participants; 15 sessions each is the data set's design).
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTables, partId, splitCleanIntoParts, tableFiles } from './helpers/parts-rig.js';
import { REPO, runStages, STAGES, type StageRun } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';
import { runReportStage } from './report-run.js';

const PARTS = 4;
const participants = readdirSync(join(REPO, 'samples/aalto')).filter((f) =>
  f.endsWith('_keystrokes.txt'),
);
let split: Workspace;
let one: Workspace;
const runs: Record<'split' | 'one', StageRun[]> = { split: [], one: [] };

beforeAll(async () => {
  const uploads = Object.fromEntries(
    participants.map((f) => [
      `uploads/aalto/${f}`,
      readFileSync(join(REPO, 'samples/aalto', f), 'latin1'),
    ]),
  );
  split = tempWorkspace(uploads);
  runStages(split.root, [
    { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } },
    STAGES.clean,
  ]);
  one = tempWorkspace();
  cpSync(join(split.root, 'data'), join(one.root, 'data'), { recursive: true });
  await splitCleanIntoParts(split, PARTS);
  await splitCleanIntoParts(one, 1);
  for (const [name, ws] of [
    ['split', split],
    ['one', one],
  ] as const)
    runs[name] = runStages(ws.root, [STAGES.keypairs, STAGES.features]);
}, 240_000);
afterAll(() => {
  split.remove();
  one.remove();
});

describe('keypairs and features on clean output in part files', () => {
  it('writes one keypairs part and one sequences part per clean part, same ids', () => {
    const ids = Array.from({ length: PARTS }, (_, i) => `${partId(i)}.parquet`);
    expect(readdirSync(join(split.root, 'data/clean/keystrokes')).sort()).toEqual(ids);
    expect(readdirSync(join(split.root, 'data/keypairs/keypairs')).sort()).toEqual(ids);
    expect(readdirSync(join(split.root, 'data/features/sequences')).sort()).toEqual(ids);
  });

  it('pairs each part from its own clean part only', async () => {
    for (let i = 0; i < PARTS; i++) {
      const [row] = await split.query<{ strays: number; sessions: number }>(`
        SELECT (SELECT count(*) FROM (SELECT DISTINCT source, user_id, session_id
                 FROM ${split.parquet(`data/keypairs/keypairs/${partId(i)}.parquet`)}
                 EXCEPT SELECT DISTINCT source, user_id, session_id
                 FROM ${split.parquet(`data/clean/keystrokes/${partId(i)}.parquet`)}))::INTEGER AS strays,
               (SELECT count(DISTINCT session_id) FROM ${split.parquet(`data/keypairs/keypairs/${partId(i)}.parquet`)})::INTEGER AS sessions`);
      expect(row?.strays).toBe(0);
      expect(row?.sessions).toBeGreaterThan(0);
    }
  });

  it.each([['data/keypairs/keypairs'], ['data/features/sequences']])(
    '%s holds the rows of the one-part build, as a multiset',
    async (table) => {
      const diff = await compareTables(
        split,
        tableFiles(split.root, table),
        tableFiles(one.root, table),
      );
      expect(diff.rowsA).toBeGreaterThan(0);
      expect(diff).toEqual({ ...diff, rowsB: diff.rowsA, onlyA: 0, onlyB: 0 });
      expect(diff.columnsA).toBe(diff.columnsB);
    },
  );

  it('keeps every participant: min_sessions_per_user counts sessions over all parts', async () => {
    expect(split.json('data/features/summary.json')).toEqual(
      one.json('data/features/summary.json'),
    );
    expect(split.json('data/features/summary.json')).toMatchObject({
      users_kept: participants.length,
      users_dropped: 0,
      sequences: participants.length * 15,
    });
    const users = (ws: Workspace) =>
      ws.query(`SELECT * FROM ${ws.parquet('data/features/users.parquet')} ORDER BY user_id`);
    expect(await users(split)).toEqual(await users(one));
  });

  it('records the same counts', () => {
    expect(runs.split.map((r) => r.metrics)).toEqual(runs.one.map((r) => r.metrics));
  });

  it('reports every number of the one-part build', () => {
    const summaries = [split, one].map((ws) => {
      const run = runReportStage(ws.root);
      expect(run.status, run.stderr).toBe(0);
      const { built_at: _builtAt, ...rest } = JSON.parse(
        readFileSync(join(run.outDir, 'summary.json'), 'utf8'),
      );
      return rest;
    });
    // Means and SDs are floating-point sums whose last digits depend on the order rows arrive in
    // (stages/report/queries.ts): every number equal to 1e-12 relative, everything else exactly.
    expect(nearlyEqual(summaries[0], summaries[1])).toEqual([]);
    expect(summaries[0]).toMatchObject({ typing: { all: { participants: participants.length } } });
  });
});

/** Paths where `a` and `b` differ: numbers by more than 1e-12 relative, anything else at all. */
function nearlyEqual(a: unknown, b: unknown, path = '$'): string[] {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b))
      ? []
      : [`${path}: ${a} vs ${b}`];
  if (Array.isArray(a) && Array.isArray(b))
    return a.length !== b.length
      ? [`${path}: length ${a.length} vs ${b.length}`]
      : a.flatMap((x, i) => nearlyEqual(x, b[i], `${path}[${i}]`));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) =>
      nearlyEqual(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${path}.${k}`,
      ),
    );
  }
  return Object.is(a, b) ? [] : [`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`];
}
