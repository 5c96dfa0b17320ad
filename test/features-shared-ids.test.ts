// A user_id that both sources use, with a session_id both use: web-app ids are any strings, so an
// upload may carry an Aalto participant's id and section. features counts a user's DISTINCT
// session_ids over all parts (features.sql), which it gets from per-source row counts less the
// session_ids shared across sources. The expected numbers are counted here from the key pairs
// table itself (count DISTINCT over its rows), not from features' bookkeeping.
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
    // 3 distinct session_ids (6, 7, 8) in 4 sessions: kept only if session 6 counted twice.
    {
      ...STAGES.features,
      params: { ...STAGES.features.params, 'features.min_sessions_per_user': 4 },
    },
  ]);
}, 120_000);
afterAll(() => ws.remove());

it('counts a session_id that both sources hold once for its user', async () => {
  const pairs = await ws.query<{ source: string; sessions: number }>(
    `SELECT source, count(DISTINCT session_id)::INTEGER AS sessions
     FROM ${ws.parquet('data/keypairs/keypairs/*.parquet')} WHERE user_id = '100' GROUP BY source ORDER BY source`,
  );
  expect(pairs).toEqual([
    { source: 'aalto', sessions: 2 },
    { source: 'webapp', sessions: 2 },
  ]);
  const [distinct] = await ws.query<{ n: number }>(
    `SELECT count(DISTINCT session_id)::INTEGER AS n FROM ${ws.parquet('data/keypairs/keypairs/*.parquet')}`,
  );
  expect(distinct!.n).toBe(3);
  const summary = ws.json('data/features/summary.json');
  expect([summary.users_kept, summary.users_dropped, summary.sessions_dropped]).toEqual([0, 1, 3]);
});
