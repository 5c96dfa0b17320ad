// Golden values for small uploads, computed by hand (derivations beside the numbers):
//
//   uploads/ ──download──▶ data/raw ──clean──▶ data/clean ──keypairs──▶ data/keypairs ──features──▶ data/features
//
// Each stage runs as its own process through test/helpers/run-stage.ts (the stage contract).
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStage, runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const ev = (
  t: number,
  type: 'down' | 'up',
  key: string,
  code: string,
  keyCode: number,
  extra: Record<string, unknown> = {},
) => ({ t, type, key, code, keyCode, repeat: false, composing: false, ...extra });
const session = (user: string, id: string, origin: number, events: unknown[]) =>
  JSON.stringify({
    session_id: id,
    user_id: user,
    prompt: 'p',
    text: 't',
    time_origin: origin,
    events,
    client: { user_agent: 'test', device: 'desktop', keyboard_layout: 'en-US' },
  });

// Session s1 of u1, time origin 1,000,000 ms. Events by index:
const s1 = session('u1', 's1', 1_000_000, [
  ev(5, 'up', 'Enter', 'Enter', 13), // 0  keyup before any keydown: unmatched_keyup
  ev(100, 'down', 'a', 'KeyA', 65), // 1  A down
  ev(150, 'down', 'b', 'KeyB', 66), // 2  B down before A is up: rollover
  ev(180, 'up', 'a', 'KeyA', 65), // 3  A up   -> A = (100, 180)
  ev(230, 'up', 'b', 'KeyB', 66), // 4  B up   -> B = (150, 230)
  ev(300, 'down', 'c', 'KeyC', 67), // 5  C down
  ev(800, 'down', 'c', 'KeyC', 67, { repeat: true }), // 6  auto-repeat: repeat_keydown
  ev(850, 'up', 'c', 'KeyC', 67), // 7  C up   -> C = (300, 850)
  ev(900, 'down', 'd', 'KeyD', 68), // 8  D down whose keyup is lost: unmatched_keydown
  ev(1000, 'down', 'e', 'KeyE', 69), // 9  E down
  ev(1090, 'up', 'e', 'KeyE', 69), // 10 E up   -> E = (1000, 1090)
  ev(1200, 'down', 'Process', 'KeyN', 229), // 11 IME (keyCode 229): ime_composing
  ev(1300, 'up', 'Process', 'KeyN', 229, { composing: true }), // 12 IME: ime_composing
  ev(1400, 'down', 'd', 'KeyD', 68), // 13 D down
  ev(1480, 'up', 'd', 'KeyD', 68), // 14 D up   -> D = (1400, 1480)
]);
// s1b of u1 (gzipped): X = (10, 60), Y = (100, 170).
const s1b = session('u1', 's1b', 2_000_000, [
  ev(10, 'down', 'x', 'KeyX', 88),
  ev(60, 'up', 'x', 'KeyX', 88),
  ev(100, 'down', 'y', 'KeyY', 89),
  ev(170, 'up', 'y', 'KeyY', 89),
]);
// s2 of u2: Z, Z, Space; s3 of u2 has one keystroke: too few with the minimum of 2.
const s2 = session('u2', 's2', 3_000_000, [
  ev(0, 'down', 'z', 'KeyZ', 90),
  ev(100, 'up', 'z', 'KeyZ', 90),
  ev(150, 'down', 'z', 'KeyZ', 90),
  ev(260, 'up', 'z', 'KeyZ', 90),
  ev(300, 'down', ' ', 'Space', 32),
  ev(400, 'up', ' ', 'Space', 32),
]);
const s3 = session('u2', 's3', 4_000_000, [
  ev(0, 'down', 'q', 'KeyQ', 81),
  ev(50, 'up', 'q', 'KeyQ', 81),
]);

// An Aalto file, Latin-1 bytes, no quoting. Line numbers are 1-based with the header as line 1.
const T = '\t';
const aaltoLines = [
  [
    'PARTICIPANT_ID',
    'TEST_SECTION_ID',
    'SENTENCE',
    'USER_INPUT',
    'KEYSTROKE_ID',
    'PRESS_TIME',
    'RELEASE_TIME',
    'LETTER',
    'KEYCODE',
  ].join(T),
  ['77', '5001', 'Hi', 'Hi', '1', '1000', '1100', 'H', '72'].join(T), // 2  kept
  ['77', '5001', 'Hi', 'Hi', '8e+05', '1050', '1150', '"', '222'].join(T), // 3  kept: lone " is a letter; id in e-notation
  ['77', '5001', 'Hi', 'Hi', '3', '1300', '1.4e+03', '\u00ec', '73'].join(T), // 4  kept: release 1.4e+03 = 1400; ì as byte 0xEC
  ['77', '5001', 'Hi', 'Hi', '4', '1350', '1450', 'k'].join(T), // 5  8 fields: aalto_field_count
  ['77', '5001', 'Hi', 'Hi', '5', '1500', '1500', 'k', '75'].join(T), // 6  hold 0: hold_zero
  ['77', '5001', 'Hi', 'Hi', '6', '1600', '1550', 'k', '75'].join(T), // 7  hold -50: hold_negative
  ['77', '5001', 'Hi', 'Hi', '7', '1700', '9000', 'k', '75'].join(T), // 8  hold 7300 > 5000: hold_over_max
  ['77', '5001', 'Hi', 'Hi', '8', '1800', '1900', 'x', '88'].join(T), // 9  kept
  ['77', '5001', 'Hi', 'Hi', '9', '2000', '2080', 'y', 'abc'].join(T), // 10 KEYCODE not a number: aalto_bad_number
  ['77', '5002', 'Yo', 'Yo', '10', '5000', '5100', 'y', '89'].join(T), // 11 alone in its section: session_too_few_keystrokes
  ['77', '5002', 'Yo', 'Yo', '11', '5200', '5300', 'a\tb', '65'].join(T), // 12 a tab inside LETTER: 10 fields
  ['77', '5002', 'Yo', 'Yo', '12', '5400', '5500', '\n', '13'].join(T), // 13 a newline inside LETTER: 8 fields,
]; // 14 and its tail "\t13": 2 fields

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace({
    'uploads/webapp/s1.session.json': s1,
    'uploads/webapp/s1b.session.json.gz': gzipSync(s1b),
    // Pretty-printed with CRLF line ends: still one document.
    'uploads/webapp/s2.session.json': JSON.stringify(JSON.parse(s2), null, 2).replaceAll(
      '\n',
      '\r\n',
    ),
    'uploads/webapp/s3.session.json': s3,
    'uploads/webapp/bad-bytes.session.json': Buffer.from([0x7b, 0xff, 0x7d]), // "{", a byte UTF-8 never has, "}"
    'uploads/webapp/cut.session.json': s3.slice(0, 40), // cut off mid-upload
    // Latin-1 with CRLF line ends, as Windows editors save it.
    'uploads/aalto/77_keystrokes.txt': Buffer.from(`${aaltoLines.join('\r\n')}\r\n`, 'latin1'),
    // UTF-8 with a byte order mark: participant 78, one section of two keystrokes.
    'uploads/aalto/78_keystrokes.txt': `\ufeff${aaltoLines[0]}\n78\t6001\tH\u00e9\tH\u00e9\t1\t100\t150\ta\t65\n78\t6001\tH\u00e9\tH\u00e9\t2\t200\t260\t\u00e9\t69\n`,
    'uploads/aalto/readme.txt': 'not an upload: download skips it',
  });
  const env = { UPLOADS_URL: 'file://uploads' };
  const clean = {
    ...STAGES.clean,
    params: {
      'clean.max_hold_ms': 5000,
      'clean.min_keystrokes_per_session': 2,
      'clean.max_upload_bytes': 16777216,
      'clean.max_decompressed_bytes': 16777216,
    },
  };
  const features = {
    ...STAGES.features,
    params: { 'features.sequence_length': 6, 'features.min_sessions_per_user': 2 },
  };
  runStages(ws.root, [{ ...STAGES.download, env }, clean, STAGES.keypairs, features]);
});
afterAll(() => ws.remove());

describe('clean on hand-made uploads', () => {
  it('pairs each keydown with the next keyup of its code and orders keystrokes by press time', async () => {
    const rows =
      await ws.query(`SELECT session_id, seq, press_ms - 1000000 AS p, release_ms - 1000000 AS r, keycode, source_line
      FROM ${ws.parquet('data/clean/keystrokes/*.parquet')} WHERE session_id = 's1' ORDER BY seq`);
    // A(100,180) B(150,230) C(300,850: the repeat at 800 is not a press) E(1000,1090) D(1400,1480: event 13, not 8)
    expect(rows).toEqual([
      { session_id: 's1', seq: 0, p: 100, r: 180, keycode: 65, source_line: 1 },
      { session_id: 's1', seq: 1, p: 150, r: 230, keycode: 66, source_line: 2 },
      { session_id: 's1', seq: 2, p: 300, r: 850, keycode: 67, source_line: 5 },
      { session_id: 's1', seq: 3, p: 1000, r: 1090, keycode: 69, source_line: 9 },
      { session_id: 's1', seq: 4, p: 1400, r: 1480, keycode: 68, source_line: 13 },
    ]);
  });

  it('reads Aalto rows without quoting, Latin-1 decoded, e-notation numbers accepted', async () => {
    const rows =
      await ws.query(`SELECT source_line, key, press_ms, release_ms, keycode FROM ${ws.parquet('data/clean/keystrokes/*.parquet')}
      WHERE source = 'aalto' ORDER BY user_id, seq`);
    expect(rows).toEqual([
      { source_line: 2, key: 'H', press_ms: 1000, release_ms: 1100, keycode: 72 },
      { source_line: 3, key: '"', press_ms: 1050, release_ms: 1150, keycode: 222 },
      { source_line: 4, key: 'ì', press_ms: 1300, release_ms: 1400, keycode: 73 },
      { source_line: 9, key: 'x', press_ms: 1800, release_ms: 1900, keycode: 88 },
      { source_line: 2, key: 'a', press_ms: 100, release_ms: 150, keycode: 65 }, // 78: the BOM did not hide the header
      { source_line: 3, key: 'é', press_ms: 200, release_ms: 260, keycode: 69 }, // UTF-8 read as UTF-8
    ]);
  });

  it('puts every removed event, row and session in rejects with its rule and origin', async () => {
    const rows = await ws.query(
      `SELECT rule, source_file, source_line FROM ${ws.parquet('data/clean/rejects/*.parquet')} ORDER BY source_file, source_line`,
    );
    expect(rows).toEqual([
      { rule: 'aalto_field_count', source_file: 'aalto/77_keystrokes.txt', source_line: 5 },
      { rule: 'hold_zero', source_file: 'aalto/77_keystrokes.txt', source_line: 6 },
      { rule: 'hold_negative', source_file: 'aalto/77_keystrokes.txt', source_line: 7 },
      { rule: 'hold_over_max', source_file: 'aalto/77_keystrokes.txt', source_line: 8 },
      { rule: 'aalto_bad_number', source_file: 'aalto/77_keystrokes.txt', source_line: 10 },
      {
        rule: 'session_too_few_keystrokes',
        source_file: 'aalto/77_keystrokes.txt',
        source_line: 11,
      },
      { rule: 'aalto_field_count', source_file: 'aalto/77_keystrokes.txt', source_line: 12 },
      { rule: 'aalto_field_count', source_file: 'aalto/77_keystrokes.txt', source_line: 13 },
      { rule: 'aalto_field_count', source_file: 'aalto/77_keystrokes.txt', source_line: 14 },
      { rule: 'invalid_json', source_file: 'webapp/bad-bytes.session.json', source_line: null },
      { rule: 'truncated_json', source_file: 'webapp/cut.session.json', source_line: null },
      { rule: 'unmatched_keyup', source_file: 'webapp/s1.session.json', source_line: 0 },
      { rule: 'repeat_keydown', source_file: 'webapp/s1.session.json', source_line: 6 },
      { rule: 'unmatched_keydown', source_file: 'webapp/s1.session.json', source_line: 8 },
      { rule: 'ime_composing', source_file: 'webapp/s1.session.json', source_line: 11 },
      { rule: 'ime_composing', source_file: 'webapp/s1.session.json', source_line: 12 },
      { rule: 'session_too_few_keystrokes', source_file: 'webapp/s3.session.json', source_line: 0 },
    ]);
  });

  it('lists each kept session with the text shown and typed', async () => {
    const rows = await ws.query(
      `SELECT source, user_id, session_id, prompt, typed_text, keystrokes FROM ${ws.parquet('data/clean/sessions/*.parquet')}`,
    );
    expect(rows).toEqual([
      // Aalto: SENTENCE and USER_INPUT of the section's first kept line; 5002 was rejected whole.
      {
        source: 'aalto',
        user_id: '77',
        session_id: '5001',
        prompt: 'Hi',
        typed_text: 'Hi',
        keystrokes: 4,
      },
      {
        source: 'aalto',
        user_id: '78',
        session_id: '6001',
        prompt: 'Hé',
        typed_text: 'Hé',
        keystrokes: 2,
      },
      {
        source: 'webapp',
        user_id: 'u1',
        session_id: 's1',
        prompt: 'p',
        typed_text: 't',
        keystrokes: 5,
      },
      {
        source: 'webapp',
        user_id: 'u1',
        session_id: 's1b',
        prompt: 'p',
        typed_text: 't',
        keystrokes: 2,
      },
      {
        source: 'webapp',
        user_id: 'u2',
        session_id: 's2',
        prompt: 'p',
        typed_text: 't',
        keystrokes: 3,
      },
    ]);
  });

  it('counts rows in, out and rejected so that they add up', () => {
    const summary = ws.json<{
      events_in: number;
      rows_in: number;
      keystrokes_out: number;
      rejected_total: number;
      by_source: Record<string, { keystrokes_out: number }>;
    }>('data/clean/summary.json');
    // web app: 15 + 4 + 6 + 2 events = 27 = 2 x (5 + 2 + 3) kept keystrokes + 5 event rejects + 2 events of s3
    expect(summary.events_in).toBe(27);
    expect(summary.by_source.webapp?.keystrokes_out).toBe(10);
    // Aalto: 77 has 13 data lines (2-14) = 4 kept + 9 rejected; 78 has 2, both kept
    expect(summary.rows_in).toBe(15);
    expect(summary.by_source.aalto?.keystrokes_out).toBe(6);
    // 5 web-app events + 1 web-app session keystroke + 2 web-app files + 9 Aalto rows
    expect(summary.rejected_total).toBe(5 + 1 + 2 + 9);
  });
});

describe('keypairs and features on hand-made uploads', () => {
  it('computes HL, IL, PL, RL per consecutive pair, rollover as negative IL', async () => {
    const rows =
      await ws.query(`SELECT seq, keycode1, keycode2, hl_ms, il_ms, pl_ms, rl_ms FROM ${ws.parquet('data/keypairs/keypairs/*.parquet')}
      WHERE session_id = 's1' ORDER BY seq`);
    expect(rows).toEqual([
      // A(100,180) B(150,230): HL 180-100, IL 150-180, PL 150-100, RL 230-180
      { seq: 0, keycode1: 65, keycode2: 66, hl_ms: 80, il_ms: -30, pl_ms: 50, rl_ms: 50 },
      // B(150,230) C(300,850): HL 80, IL 300-230, PL 300-150, RL 850-230
      { seq: 1, keycode1: 66, keycode2: 67, hl_ms: 80, il_ms: 70, pl_ms: 150, rl_ms: 620 },
      // C(300,850) E(1000,1090): HL 550, IL 1000-850, PL 1000-300, RL 1090-850
      { seq: 2, keycode1: 67, keycode2: 69, hl_ms: 550, il_ms: 150, pl_ms: 700, rl_ms: 240 },
      // E(1000,1090) D(1400,1480): HL 90, IL 1400-1090, PL 1400-1000, RL 1480-1090
      { seq: 3, keycode1: 69, keycode2: 68, hl_ms: 90, il_ms: 310, pl_ms: 400, rl_ms: 390 },
    ]);
  });

  it('pairs Aalto keystrokes across the rejected rows in between', async () => {
    const rows = await ws.query(
      `SELECT hl_ms, il_ms, pl_ms, rl_ms FROM ${ws.parquet('data/keypairs/keypairs/*.parquet')} WHERE user_id = '77' ORDER BY seq`,
    );
    // (1000,1100) (1050,1150) (1300,1400) (1800,1900)
    expect(rows).toEqual([
      { hl_ms: 100, il_ms: -50, pl_ms: 50, rl_ms: 50 },
      { hl_ms: 100, il_ms: 150, pl_ms: 250, rl_ms: 250 },
      { hl_ms: 100, il_ms: 400, pl_ms: 500, rl_ms: 500 },
    ]);
  });

  it('builds M=6 TypeNet rows per session: N-1 vectors in seconds, then zero padding, for users with 2+ sessions', async () => {
    const rows = await ws.query<
      Record<string, unknown>
    >(`SELECT session_id, position, keycode_norm, hl_s, il_s, pl_s, rl_s, is_padding
      FROM ${ws.parquet('data/features/sequences/*.parquet')} ORDER BY session_id, position`);
    const v = (
      session_id: string,
      position: number,
      k: number,
      hl: number,
      il: number,
      pl: number,
      rl: number,
      is_padding = false,
    ) => ({
      session_id,
      position,
      keycode_norm: k / 255,
      hl_s: hl / 1000,
      il_s: il / 1000,
      pl_s: pl / 1000,
      rl_s: rl / 1000,
      is_padding,
    });
    const pad = (session_id: string, position: number) =>
      v(session_id, position, 0, 0, 0, 0, 0, true);
    // u1 has 2 sessions (kept); u2 has 1 left after s3 was rejected, 77 and 78 have 1: below 2, dropped.
    expect(rows).toEqual([
      v('s1', 0, 65, 80, -30, 50, 50),
      v('s1', 1, 66, 80, 70, 150, 620),
      v('s1', 2, 67, 550, 150, 700, 240),
      v('s1', 3, 69, 90, 310, 400, 390),
      pad('s1', 4),
      pad('s1', 5),
      // s1b: X(10,60) Y(100,170): HL 50, IL 40, PL 90, RL 110
      v('s1b', 0, 88, 50, 40, 90, 110),
      pad('s1b', 1),
      pad('s1b', 2),
      pad('s1b', 3),
      pad('s1b', 4),
      pad('s1b', 5),
    ]);
    expect(await ws.query(`SELECT * FROM ${ws.parquet('data/features/users.parquet')}`)).toEqual([
      { user_id: 'u1', sessions: 2, sequences: 2 },
    ]);
    // 12 rows; padding: s1 has 4 vectors + 2 padding rows, s1b 1 vector + 5 padding rows: 7/12
    expect(ws.json('data/features/summary.json')).toEqual({
      M: 6,
      min_sessions_per_user: 2,
      users_kept: 1,
      users_dropped: 3,
      sessions_dropped: 3,
      sequences: 2,
      padding_share: 7 / 12,
    });
  });

  it('truncates at the end when a session is longer than M', async () => {
    const run = runStage(ws.root, {
      ...STAGES.features,
      params: { 'features.sequence_length': 2, 'features.min_sessions_per_user': 1 },
    });
    expect(run.status, run.stderr).toBe(0);
    const rows = await ws.query(
      `SELECT session_id, position, hl_s FROM ${ws.parquet('data/features/sequences/*.parquet')} WHERE session_id IN ('s1', '5001') ORDER BY ALL`,
    );
    expect(rows).toEqual([
      { session_id: '5001', position: 0, hl_s: 0.1 },
      { session_id: '5001', position: 1, hl_s: 0.1 },
      { session_id: 's1', position: 0, hl_s: 0.08 },
      { session_id: 's1', position: 1, hl_s: 0.08 },
    ]);
  });
});
