// clean's partitioned layout (docs/data-tables.md): each table a folder of part files, every part
// id with all three tables and its record, no session across parts, and the summary exact over all
// parts. The hostile case: two Aalto files whose NAMES say two participants but whose rows share a
// participant and section. Each file alone holds 6 keystrokes of section 5, below the minimum of
// 10, so if the files were built in separate parts the section would be rejected twice over; built
// together it is one kept session of 12. The expected counts are worked out by hand from the rows
// written here, and the incremental build (second file added later) must equal the full one row
// for row.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  changes,
  compareTables,
  layoutProblems,
  query,
  runClean,
  snapshot,
  tableFiles,
  unchangedSince,
} from './helpers/clean-rig.js';
import { REPO, runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const HEADER =
  'PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\tRELEASE_TIME\tLETTER\tKEYCODE';
/** `n` keystrokes of `participant`'s `section`, 100 ms apart from `start`, each held 50 ms. */
function aaltoRows(participant: string, section: string, start: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    [
      participant,
      section,
      'ab',
      'ab',
      String(i),
      start + i * 100,
      start + i * 100 + 50,
      'a',
      '65',
    ].join('\t'),
  );
}
const fileA = [HEADER, ...aaltoRows('100', '5', 1000, 6), ...aaltoRows('100', '6', 9000, 20)];
const fileB = [HEADER, ...aaltoRows('100', '5', 5000, 6)]; // named 900, holds participant 100
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const text = (lines: string[]) => `${lines.join('\n')}\n`;

// Each upload its own part by size (1 byte), so only the key check can bring the two together.
const ENV = { UPLOADS_URL: 'file://uploads', CLEAN_PART_BYTES: '1' };
const download = () => {
  const r = runStage(ws.root, { ...STAGES.download, env: ENV });
  if (r.status !== 0) throw new Error(r.stderr);
};

let ws: Workspace;
let scratch: string;
beforeAll(() => {
  ws = tempWorkspace({ 'uploads/aalto/100_keystrokes.txt': text(fileA) });
  scratch = mkdtempSync(join(tmpdir(), 'pipe-clean-parts-'));
});
afterAll(() => {
  ws.remove();
  rmSync(scratch, { recursive: true, force: true });
});

describe('clean parts', () => {
  it('write each table as a folder of part files, with records and an exact summary', async () => {
    const samples = tempWorkspace();
    try {
      cpSync(join(REPO, 'samples'), join(samples.root, 'samples'), { recursive: true });
      const env = { UPLOADS_URL: 'file://samples', CLEAN_PART_BYTES: String(200_000) };
      expect(runStage(samples.root, { ...STAGES.download, env }).status).toBe(0);
      const run = runClean(samples.root, scratch, env);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(await layoutProblems(run.out)).toEqual([]);
      const parts = tableFiles(run.out, 'keystrokes');
      expect(parts.length).toBeGreaterThan(3); // 1.1 MB of samples in parts of 200 KB
      // The summary against counts taken straight from the part files.
      const all = (t: string) => `read_parquet([${tableFiles(run.out, t).map((f) => `'${f}'`)}])`;
      const [facts] = await query<Record<string, number>>(`SELECT
        (SELECT count(*) FROM ${all('keystrokes')})::INTEGER AS keystrokes,
        (SELECT count(*) FROM ${all('rejects')})::INTEGER AS rejects,
        (SELECT count(DISTINCT (user_id, session_id)) FROM ${all('keystrokes')})::INTEGER AS sessions,
        (SELECT count(DISTINCT user_id) FROM ${all('keystrokes')})::INTEGER AS users,
        (SELECT count(*) FROM ${all('sessions')})::INTEGER AS session_rows`);
      const summary = readJson(join(run.out, 'summary.json'));
      expect(summary.keystrokes_out).toBe(facts!.keystrokes);
      expect(summary.rejected_total).toBe(facts!.rejects);
      expect(summary.sessions_out).toBe(facts!.sessions);
      expect(summary.users_out).toBe(facts!.users);
      expect(facts!.session_rows).toBe(facts!.sessions);
      expect(run.metrics).toEqual({
        records: {
          keystrokes: facts!.keystrokes,
          rejects: facts!.rejects,
          sessions: facts!.sessions,
          users: facts!.users,
        },
      });
      // The same uploads in one part give the same rows (the part split changes files, not rows).
      const one = runClean(samples.root, scratch, { ...env, CLEAN_PART_BYTES: String(2 ** 30) });
      expect(tableFiles(one.out, 'keystrokes')).toHaveLength(1);
      for (const d of await compareTables(run.out, one.out)) {
        expect(d.rowsA).toBe(d.rowsB);
        expect([d.table, d.onlyA, d.onlyB]).toEqual([d.table, 0, 0]);
      }
    } finally {
      samples.remove();
    }
  }, 120_000);

  it('count a (user_id, session_id) that both sources hold as a session of each, of one user', async () => {
    // Web-app ids are any strings, so an upload may carry an Aalto participant's id and section.
    // A session is (source, user_id, session_id); a user is a user_id. The expected counts come
    // from the keystroke table (count DISTINCT over the rows), not from the sessions files
    // summary.json counts.
    const both = tempWorkspace();
    try {
      both.write('uploads/aalto/100_keystrokes.txt', text(fileA));
      const sample = readdirSync(join(REPO, 'samples/webapp'))[0]!;
      const upload = readJson(join(REPO, 'samples/webapp', sample));
      both.write(
        'uploads/webapp/6.session.json',
        JSON.stringify({ ...upload, user_id: '100', session_id: '6' }),
      );
      expect(runStage(both.root, { ...STAGES.download, env: ENV }).status).toBe(0);
      const run = runClean(both.root, scratch, ENV);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const all = (t: string) => `read_parquet([${tableFiles(run.out, t).map((f) => `'${f}'`)}])`;
      const facts = await query<{
        source: string | null;
        ids: number;
        sessions: number;
        users: number;
      }>(`
        SELECT source, count(DISTINCT (user_id, session_id))::INTEGER AS ids,
               count(DISTINCT (source, user_id, session_id))::INTEGER AS sessions,
               count(DISTINCT user_id)::INTEGER AS users
        FROM ${all('keystrokes')} GROUP BY GROUPING SETS ((source), ()) ORDER BY source NULLS FIRST`);
      // Both sources kept a session of the same ids, so the case is the one meant.
      expect(facts).toEqual([
        { source: null, ids: 1, sessions: 2, users: 1 },
        { source: 'aalto', ids: 1, sessions: 1, users: 1 },
        { source: 'webapp', ids: 1, sessions: 1, users: 1 },
      ]);
      const summary = readJson(join(run.out, 'summary.json'));
      expect([summary.sessions_out, summary.users_out]).toEqual([2, 1]);
      for (const source of ['aalto', 'webapp'])
        expect([
          summary.by_source[source].sessions_out,
          summary.by_source[source].users_out,
        ]).toEqual([1, 1]);
    } finally {
      both.remove();
    }
  }, 60_000);

  it('build uploads that share a participant in one part, in a full and an incremental build', async () => {
    download();
    const rawBefore = snapshot(join(ws.root, 'data/raw'));
    const first = runClean(ws.root, scratch, ENV);
    expect(first.status).toBe(0);

    ws.write('uploads/aalto/900_keystrokes.txt', text(fileB));
    download();
    const deps = {
      'data/raw': changes(rawBefore, snapshot(join(ws.root, 'data/raw')), 'data/raw/'),
      'config/upload.schema.json': { added: [], modified: [], deleted: [] },
    };
    expect(deps['data/raw'].added).toEqual(['data/raw/aalto/900_keystrokes.txt']);
    const previous = snapshot(first.out);
    const incremental = runClean(ws.root, scratch, ENV, { previous: first.out, deps });
    expect(incremental.stderr).toBe('');
    expect(incremental.status).toBe(0);
    expect(incremental.stdout).toMatch(/built 1 changed of 1 parts/);
    expect(unchangedSince(first.out, previous)).toBe(true); // the linked outputs were not written into
    const full = runClean(ws.root, scratch, ENV);
    expect(full.status).toBe(0);

    for (const out of [full.out, incremental.out]) {
      expect(await layoutProblems(out)).toEqual([]);
      expect(tableFiles(out, 'keystrokes')).toHaveLength(1); // the two files merged into one part
      const sessions = await query(
        `SELECT session_id, keystrokes FROM read_parquet([${tableFiles(out, 'sessions').map((f) => `'${f}'`)}]) ORDER BY session_id`,
      );
      expect(sessions).toEqual([
        { session_id: '5', keystrokes: 12 },
        { session_id: '6', keystrokes: 20 },
      ]);
      const rejects = await query(
        `SELECT count(*)::INTEGER AS n FROM read_parquet([${tableFiles(out, 'rejects').map((f) => `'${f}'`)}])`,
      );
      expect(rejects).toEqual([{ n: 0 }]);
    }
    for (const d of await compareTables(full.out, incremental.out)) {
      expect(d.rowsA).toBe(d.rowsB);
      expect([d.table, d.onlyA, d.onlyB]).toEqual([d.table, 0, 0]);
    }
    expect(readJson(join(incremental.out, 'summary.json'))).toEqual(
      readJson(join(full.out, 'summary.json')),
    );
    expect(incremental.metrics).toEqual(full.metrics);
    expect(full.metrics).toEqual({
      records: { keystrokes: 32, rejects: 0, sessions: 2, users: 1 },
    });
  }, 120_000);
});
