// keypairs and features read their input in file order (streaming windows, no sort), so they rely
// on the order clean and keypairs write: each session one run, in (source, user_id, session_id,
// seq) order. These tests pin (1) that keypairs refuses a file out of that order instead of pairing
// rows of different sessions, and (2) that features writes a whole part's sequences in the pairs'
// own file order, (source, user_id, session_id, position), also when user ids interleave across
// sources.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

let ws: Workspace | undefined;
afterEach(() => ws?.remove());

async function writeTable(w: Workspace, path: string, select: string): Promise<void> {
  mkdirSync(dirname(join(w.root, path)), { recursive: true });
  await w.query(`COPY (${select}) TO '${w.root}/${path}' (FORMAT parquet)`);
}

const keystroke = (session: string, seq: number, press: number) =>
  `SELECT 'aalto' AS source, 'desktop' AS platform, '7' AS user_id, '${session}' AS session_id, ${seq}::INTEGER AS seq,
     ${press}.0::DOUBLE AS press_ms, ${press + 50}.0::DOUBLE AS release_ms, 'a' AS key, NULL::VARCHAR AS code, 65::INTEGER AS keycode,
     'aalto/7_keystrokes.txt' AS source_file, ${seq + 2}::INTEGER AS source_line`;

describe('keypairs on a keystrokes file out of order', () => {
  it.each([
    // Session s1 (seq 0, 1), then s2, then s1 again (seq 2): sorted within each run, not as a file.
    [
      'a session split into two runs',
      [
        keystroke('s1', 0, 100),
        keystroke('s1', 1, 200),
        keystroke('s2', 0, 300),
        keystroke('s1', 2, 400),
      ],
      'seq_counts_by_press_time',
      '"session_id":"s1","seq":2,',
    ],
    // seq counts 0, 1, 2 in one run, but keystroke 2 was pressed before keystroke 1.
    [
      'a press time that goes back within a session',
      [keystroke('s1', 0, 100), keystroke('s1', 1, 300), keystroke('s1', 2, 200)],
      'seq_counts_by_press_time',
      '"seq":2,"press_ms":200,',
    ],
    // s1 seq 0, 1, 3 around s1x: each session counts from 0 by itself, but s1 is two runs.
    [
      'another session wedged into a run whose seq counts on past it',
      [
        keystroke('s1', 0, 100),
        keystroke('s1', 1, 200),
        keystroke('s1x', 0, 300),
        keystroke('s1', 3, 400),
      ],
      'seq_counts_by_press_time',
      '"session_id":"s1","seq":3,',
    ],
    [
      'sessions out of (source, user_id, session_id) order',
      [keystroke('s2', 0, 100), keystroke('s1', 0, 300)],
      'sessions_in_order',
      '"session_id":"s1","seq":0,',
    ],
  ])('refuses %s, naming the rule', async (_what, rows, rule, example) => {
    ws = tempWorkspace();
    await writeTable(ws, 'data/clean/keystrokes/part-000000.parquet', rows.join(' UNION ALL '));
    const run = runStage(ws.root, STAGES.keypairs);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `stage keypairs: input data/clean/keystrokes/part-000000.parquet fails check "${rule}": 1 row(s) violate`,
    );
    expect(run.stderr).toContain(
      `for example {${'"source":"aalto","platform":"desktop","user_id":"7",'}`,
    );
    expect(run.stderr).toContain(example); // the offending row is the one named
  });
});

describe('features on a key pairs file out of order', () => {
  const pairOf = (session: string, seq: number) =>
    `SELECT 'aalto' AS source, 'desktop' AS platform, '7' AS user_id, '${session}' AS session_id, ${seq}::INTEGER AS seq,
       65::INTEGER AS keycode1, 66::INTEGER AS keycode2, 80.0::DOUBLE AS hl_ms, -30.0::DOUBLE AS il_ms, 50.0::DOUBLE AS pl_ms, 50.0::DOUBLE AS rl_ms`;
  it.each([
    ['a pair seq that skips one', [pairOf('s1', 0), pairOf('s1', 2)], 'seq_counts_from_zero'],
    [
      'a session split into two runs',
      [pairOf('s1', 0), pairOf('s2', 0), pairOf('s1', 1)],
      'seq_counts_from_zero',
    ],
    ['sessions out of order', [pairOf('s2', 0), pairOf('s1', 0)], 'sessions_in_order'],
  ])('refuses %s, naming the rule', async (_what, rows, rule) => {
    ws = tempWorkspace();
    await writeTable(ws, 'data/keypairs/keypairs/part-000000.parquet', rows.join(' UNION ALL '));
    const run = runStage(ws.root, {
      ...STAGES.features,
      params: { 'features.sequence_length': 3, 'features.min_sessions_per_user': 1 },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `stage features: input data/keypairs/keypairs/part-000000.parquet fails check "${rule}": 1 row(s) violate`,
    );
  });
});

// Pairs: user 'b' (aalto) has 2 pairs, user 'a' (webapp) has 1. HL 80 ms, IL -30 ms, PL 50 ms, RL 50 ms.
const pair = (source: string, user: string, seq: number, keycode: number) =>
  `SELECT '${source}' AS source, 'desktop' AS platform, '${user}' AS user_id, 's-${user}' AS session_id, ${seq}::INTEGER AS seq,
     ${keycode}::INTEGER AS keycode1, 66::INTEGER AS keycode2, 80.0::DOUBLE AS hl_ms, -30.0::DOUBLE AS il_ms, 50.0::DOUBLE AS pl_ms, 50.0::DOUBLE AS rl_ms`;
// By hand, M = 3: keycode/255 and ms/1000; positions past a session's pairs are zero padding.
const real = (source: string, user: string, position: number, keycode: number) => ({
  source,
  user_id: user,
  session_id: `s-${user}`,
  position,
  keycode_norm: keycode / 255,
  hl_s: 0.08,
  il_s: -0.03,
  pl_s: 0.05,
  rl_s: 0.05,
  is_padding: false,
});
const pad = (source: string, user: string, position: number) => ({
  source,
  user_id: user,
  session_id: `s-${user}`,
  position,
  keycode_norm: 0,
  hl_s: 0,
  il_s: 0,
  pl_s: 0,
  rl_s: 0,
  is_padding: true,
});
const a = (source: string) => [real(source, 'a', 0, 65), pad(source, 'a', 1), pad(source, 'a', 2)];
const b = [real('aalto', 'b', 0, 70), real('aalto', 'b', 1, 71), pad('aalto', 'b', 2)];

describe('features, whatever the order of user ids in a keypairs part', () => {
  // Sequences are in (source, user_id, session_id, position) order, the pairs' own file order.
  it.each([
    [
      'already in user order',
      [pair('aalto', 'a', 0, 65), pair('aalto', 'b', 0, 70), pair('aalto', 'b', 1, 71)],
      [...a('aalto'), ...b],
    ],
    // aalto sorts before webapp, so user 'b' comes first in the file, and in the sequences.
    [
      'with user ids interleaved across sources',
      [pair('aalto', 'b', 0, 70), pair('aalto', 'b', 1, 71), pair('webapp', 'a', 0, 65)],
      [...b, ...a('webapp')],
    ],
  ])('writes the sequences in file order when the pairs are %s', async (_what, rows, expected) => {
    ws = tempWorkspace();
    await writeTable(ws, 'data/keypairs/keypairs/part-000000.parquet', rows.join(' UNION ALL '));
    const run = runStage(ws.root, {
      ...STAGES.features,
      params: { 'features.sequence_length': 3, 'features.min_sessions_per_user': 1 },
    });
    expect(run.status, run.stderr).toBe(0);
    // No ORDER BY: the file's own row order is part of what is checked.
    expect(
      await ws.query(`SELECT * FROM ${ws.parquet('data/features/sequences/*.parquet')}`),
    ).toEqual(expected);
  });
});
