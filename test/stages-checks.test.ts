// Input checks: a stage refuses data it does not understand, naming the stage, the table, the
// rule and an example row. Each case writes a small bad table with DuckDB and runs the real stage.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { duckDbSettings, openDuckDb } from '../stages/duckdb.js';
import { runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const KEYSTROKE = `'webapp' AS source, 'desktop' AS platform, 'u1' AS user_id, 's1' AS session_id, 0::INTEGER AS seq,
  1000.0::DOUBLE AS press_ms, 1080.0::DOUBLE AS release_ms, 'a' AS key, 'KeyA' AS code, 65::INTEGER AS keycode,
  'webapp/s1.session.json' AS source_file, 1::INTEGER AS source_line`;
const KEYPAIR = `'webapp' AS source, 'desktop' AS platform, 'u1' AS user_id, 's1' AS session_id, 0::INTEGER AS seq,
  65::INTEGER AS keycode1, 66::INTEGER AS keycode2, 80.0::DOUBLE AS hl_ms, -30.0::DOUBLE AS il_ms, 50.0::DOUBLE AS pl_ms, 50.0::DOUBLE AS rl_ms`;

let ws: Workspace | undefined;
afterEach(() => ws?.remove());

async function writeTable(w: Workspace, path: string, select: string): Promise<void> {
  mkdirSync(dirname(join(w.root, path)), { recursive: true });
  await w.query(`COPY (${select}) TO '${w.root}/${path}' (FORMAT parquet)`);
}

describe('keypairs checks each part of data/clean/keystrokes/', () => {
  it.each([
    [
      'a release before its press',
      `SELECT * REPLACE (900.0::DOUBLE AS release_ms) FROM (SELECT ${KEYSTROKE})`,
      'input data/clean/keystrokes/part-000000.parquet fails check "positive_hold": 1 row(s) violate release_ms > press_ms; for example {"source":"webapp","platform":"desktop","user_id":"u1","session_id":"s1","seq":0,"press_ms":1000,"release_ms":900,',
    ],
    [
      'a missing user',
      `SELECT * REPLACE (NULL::VARCHAR AS user_id) FROM (SELECT ${KEYSTROKE})`,
      'fails check "not_null(user_id)": 1 row(s) violate "user_id" IS NOT NULL; for example {"source":"webapp","platform":"desktop","user_id":null,',
    ],
    [
      'a keycode of another type',
      `SELECT * REPLACE (65::BIGINT AS keycode) FROM (SELECT ${KEYSTROKE})`,
      'fails check "types": column keycode is BIGINT, expected INTEGER',
    ],
    [
      'a missing column',
      `SELECT * EXCLUDE (seq) FROM (SELECT ${KEYSTROKE})`,
      'fails check "columns": column seq (INTEGER) is missing',
    ],
    [
      'a gap in seq',
      `SELECT * REPLACE (seq + 1 AS seq) FROM (SELECT ${KEYSTROKE})`,
      'fails check "seq_counts_by_press_time": 1 row(s) violate seq = expected_seq AND press_ms >= coalesce(previous_press_ms, press_ms); for example {',
    ],
    [
      'an unknown source',
      `SELECT * REPLACE ('csv' AS source) FROM (SELECT ${KEYSTROKE})`,
      "fails check \"known_source\": 1 row(s) violate source IN ('webapp', 'aalto')",
    ],
    [
      'an unknown platform',
      `SELECT * REPLACE ('tablet' AS platform) FROM (SELECT ${KEYSTROKE})`,
      "fails check \"known_platform\": 1 row(s) violate platform IN ('desktop', 'mobile')",
    ],
    [
      'a keycode above 255',
      `SELECT * REPLACE (256 AS keycode) FROM (SELECT ${KEYSTROKE})`,
      'fails check "keycode_range": 1 row(s) violate keycode BETWEEN 0 AND 255',
    ],
    [
      'a missing source line',
      `SELECT * REPLACE (NULL::INTEGER AS source_line) FROM (SELECT ${KEYSTROKE})`,
      'fails check "not_null(source_line)": 1 row(s) violate',
    ],
  ])('refuses %s', async (_what, select, message) => {
    ws = tempWorkspace();
    await writeTable(ws, 'data/clean/keystrokes/part-000000.parquet', select);
    const run = runStage(ws.root, STAGES.keypairs);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `stage keypairs: ${message.startsWith('input') ? '' : 'input data/clean/keystrokes/part-000000.parquet '}${message}`,
    );
  });
});

describe('features checks each part of data/keypairs/keypairs/', () => {
  it('refuses a pair where PL is not HL + IL', async () => {
    ws = tempWorkspace();
    await writeTable(
      ws,
      'data/keypairs/keypairs/part-000000.parquet',
      `SELECT * REPLACE (51.0::DOUBLE AS pl_ms) FROM (SELECT ${KEYPAIR})`,
    );
    const run = runStage(ws.root, STAGES.features);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'stage features: input data/keypairs/keypairs/part-000000.parquet fails check "pl_equals_hl_plus_il": 1 row(s) violate abs(pl_ms - (hl_ms + il_ms)) <= 1e-6; for example {',
    );
    expect(run.stderr).toContain('"hl_ms":80,"il_ms":-30,"pl_ms":51');
  });

  // Each row rule alone: the input check passes a table on one AND of all of them (checks.ts), so
  // a rule left out of it would let its bad row through; these fail if that happens.
  it.each([
    ['a keycode2 below 0', '-1 AS keycode2', 'keycode_range'],
    [
      'a zero hold',
      '0.0::DOUBLE AS hl_ms, -80.0::DOUBLE AS il_ms, -80.0::DOUBLE AS pl_ms',
      'positive_hold',
    ],
    [
      'a next press before this one',
      '-30.0::DOUBLE AS pl_ms, -110.0::DOUBLE AS il_ms',
      'press_order',
    ],
    ['a missing keycode2', 'NULL::INTEGER AS keycode2', 'not_null(keycode2)'],
  ])('refuses %s', async (_what, replace, rule) => {
    ws = tempWorkspace();
    await writeTable(
      ws,
      'data/keypairs/keypairs/part-000000.parquet',
      `SELECT * REPLACE (${replace}) FROM (SELECT ${KEYPAIR})`,
    );
    const run = runStage(ws.root, STAGES.features);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `stage features: input data/keypairs/keypairs/part-000000.parquet fails check "${rule}": 1 row(s) violate`,
    );
  });

  it('accepts the same pair when PL = HL + IL (the check can pass)', async () => {
    ws = tempWorkspace();
    await writeTable(ws, 'data/keypairs/keypairs/part-000000.parquet', `SELECT ${KEYPAIR}`);
    const run = runStage(ws.root, {
      ...STAGES.features,
      params: { 'features.sequence_length': 50, 'features.min_sessions_per_user': 1 },
    });
    expect(run.status, run.stderr).toBe(0);
  });
});

describe('clean checks data/raw/manifest.json', () => {
  it('refuses a manifest that lists a file data/raw does not have', () => {
    ws = tempWorkspace({
      'data/raw/manifest.json': JSON.stringify({
        source: 'file://x',
        files: [{ path: 'gone.session.json', size: 3, sha256: 'ab' }],
        deleted: [],
      }),
    });
    const run = runStage(ws.root, STAGES.clean);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'stage clean: input data/raw/manifest.json fails check "files_present": manifest entry 0 {"path":"gone.session.json","size":3,"sha256":"ab"} has no file of that size in data/raw\n',
    );
  });
});

describe('DuckDB settings', () => {
  it('takes memory limit and threads from config and never auto-installs extensions', async () => {
    ws = tempWorkspace();
    const settings = duckDbSettings(ws.root, {
      DUCKDB_MEMORY_LIMIT: '512MiB',
      DUCKDB_THREADS: '1',
    });
    if (!settings.ok) throw new Error(settings.error);
    const db = await openDuckDb(settings.value);
    const rows =
      await db.rows(`SELECT current_setting('memory_limit') AS m, current_setting('threads')::INTEGER AS t,
      current_setting('autoinstall_known_extensions') AS i, current_setting('autoload_known_extensions') AS l`);
    db.close();
    expect(rows).toEqual([{ m: '512.0 MiB', t: 1, i: false, l: false }]);
  });

  it('falls back to config/.env.base and rejects values DuckDB would misread', () => {
    ws = tempWorkspace();
    expect(duckDbSettings(ws.root, {})).toEqual({
      ok: true,
      value: { memoryLimit: '1200MB', threads: 2 },
    });
    expect(duckDbSettings(ws.root, { DUCKDB_THREADS: 'two' })).toEqual({
      ok: false,
      error: expect.stringContaining('DUCKDB_THREADS=two is not a positive whole number'),
    });
    expect(duckDbSettings(ws.root, { DUCKDB_MEMORY_LIMIT: 'lots' })).toEqual({
      ok: false,
      error: expect.stringContaining('DUCKDB_MEMORY_LIMIT=lots is not a size like 2GB'),
    });
  });

  it('fails a stage with the fix when the config is bad', () => {
    ws = tempWorkspace();
    const run = runStage(ws.root, { ...STAGES.keypairs, env: { DUCKDB_THREADS: '0' } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'stage keypairs: DUCKDB_THREADS=0 is not a positive whole number; fix it in config/.env.local or the environment\n',
    );
  });
});
