// A user_id that both sources use, with a session_id both use: web-app ids are any strings, so an
// upload may carry an Aalto participant's id and section. A session is (source, user_id,
// session_id) and a user is a user_id, so user 100 has 4 sessions here, one sequence each; the
// two sessions "6" must not be merged (their pairs at one position each) nor fail the order check.
// The expected numbers are counted here from the key pairs table itself, not from features'
// bookkeeping.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO, runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const HEADER =
  'PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\tRELEASE_TIME\tLETTER\tKEYCODE';
/** `n` keystrokes of participant 100's `section`, 100 ms apart from `start`, each held 50 ms. */
const rows = (section: string, start: number, n: number) =>
  Array.from({ length: n }, (_, i) =>
    ['100', section, 'ab', 'ab', String(i), start + i * 100, start + i * 100 + 50, 'a', '65'].join(
      '\t',
    ),
  );
const sample = readdirSync(join(REPO, 'samples/webapp'))[0]!;
const upload = JSON.parse(readFileSync(join(REPO, 'samples/webapp', sample), 'utf8'));
const web = (session: string) => JSON.stringify({ ...upload, user_id: '100', session_id: session });

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace({
    'uploads/aalto/100_keystrokes.txt': `${[HEADER, ...rows('6', 1000, 20), ...rows('7', 9000, 20)].join('\n')}\n`,
    'uploads/webapp/6.session.json': web('6'), // section 6 of participant 100 as well
    'uploads/webapp/8.session.json': web('8'),
  });
  runStages(ws.root, [
    { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } },
    STAGES.clean,
    STAGES.keypairs,
    // 3 distinct session_ids (6, 7, 8) in 4 sessions: kept only if each source's 6 counts.
    {
      ...STAGES.features,
      params: { ...STAGES.features.params, 'features.min_sessions_per_user': 4 },
    },
  ]);
}, 120_000);
afterAll(() => ws.remove());

it('keeps a session of each source under the same ids, one sequence each', async () => {
  const keypairs = ws.parquet('data/keypairs/keypairs/*.parquet');
  const pairs = await ws.query<{ source: string; session_id: string; pairs: number }>(
    `SELECT source, session_id, count(*)::INTEGER AS pairs FROM ${keypairs}
     WHERE user_id = '100' GROUP BY ALL ORDER BY ALL`,
  );
  // The case meant: session 6 under both sources, 4 sessions of 3 distinct session_ids.
  expect(pairs.map((p) => `${p.source} ${p.session_id}`)).toEqual([
    'aalto 6',
    'aalto 7',
    'webapp 6',
    'webapp 8',
  ]);
  const summary = ws.json('data/features/summary.json');
  expect([summary.users_kept, summary.users_dropped, summary.sequences]).toEqual([1, 0, 4]);
  // Each session's sequence: M positions, its pairs (up to M) not padding, the rest padding.
  const m = Number(summary.M);
  const sequences = await ws.query<{
    source: string;
    session_id: string;
    rows: number;
    pairs: number;
  }>(
    `SELECT source, session_id, count(*)::INTEGER AS rows, count(*) FILTER (NOT is_padding)::INTEGER AS pairs
     FROM ${ws.parquet('data/features/sequences/*.parquet')} GROUP BY ALL ORDER BY ALL`,
  );
  expect(sequences).toEqual(pairs.map((p) => ({ ...p, rows: m, pairs: Math.min(p.pairs, m) })));
  const users = await ws.query(`SELECT * FROM ${ws.parquet('data/features/users.parquet')}`);
  expect(users).toEqual([{ user_id: '100', sessions: 4, sequences: 4 }]);
});
