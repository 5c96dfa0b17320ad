// Aalto section texts (sessions.parquet prompt / typed_text): SENTENCE and USER_INPUT of each
// section's first KEPT line. clean.aalto.sql keeps the texts only on lines whose first four fields
// differ from the line before's and looks back from the first kept line, so these hand-made files
// put rejected lines, interleaved sections and changed texts right where that look-back could slip.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const T = '\t';
const HEADER = [
  'PARTICIPANT_ID',
  'TEST_SECTION_ID',
  'SENTENCE',
  'USER_INPUT',
  'KEYSTROKE_ID',
  'PRESS_TIME',
  'RELEASE_TIME',
  'LETTER',
  'KEYCODE',
].join(T);
const row = (
  section: string,
  sentence: string,
  input: string,
  press: number | string,
  letter = 'k',
  keycode = '75',
) =>
  [
    '90',
    section,
    sentence,
    input,
    '1',
    String(press),
    String(Number(press) + 60),
    letter,
    keycode,
  ].join(T);
const lines = [
  HEADER, // 1
  row('7001', 'A', 'a', 'x'), // 2  PRESS_TIME not a number: rejected; its texts A/a must not be used
  row('7001', 'B', 'b', 100), // 3  first kept line of 7001: B/b
  row('7001', 'B', 'b', 200), // 4
  row('7002', 'C', 'c', 'x'), // 5  rejected, same first four fields as line 6
  row('7002', 'C', 'c', 300), // 6  first kept of 7002: C/c (equal to line 5's)
  row('7003', 'D', 'd', 400), // 7  7003 interleaved with 7002
  row('7002', 'C2', 'c2', 500), // 8  7002 again, other texts: not its first kept line
  row('7003', 'D', 'd', 600), // 9
  ['90', '7004', 'E'].join(T), // 10 3 fields: rejected
  row('7004', 'E', 'e', 700), // 11 first kept of 7004: E/e
  row('7004', 'E', 'e', 800), // 12
  row('7005', 'F', 'f\tg', 900), // 13 a tab inside USER_INPUT: 10 fields, rejected
  row('7005', 'F', 'f', 1000), // 14 same first four fields as line 13: F/f
  row('7005', 'F', 'f', 1100), // 15
];
// A second file: its first data line follows the header, so it keeps its texts.
const second = [HEADER, row('7006', 'G', 'g', 50), row('7006', 'G', 'g', 60)];

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace({
    'uploads/aalto/90_keystrokes.txt': `${lines.join('\n')}\n`,
    'uploads/aalto/91_keystrokes.txt': `${second.join('\n')}\n`,
  });
  const clean = {
    ...STAGES.clean,
    params: {
      'clean.max_hold_ms': 5000,
      'clean.min_keystrokes_per_session': 2,
      'clean.max_upload_bytes': 16777216,
      'clean.max_decompressed_bytes': 16777216,
    },
  };
  runStages(ws.root, [{ ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } }, clean]);
});
afterAll(() => ws.remove());

describe('Aalto section texts', () => {
  it("come from each section's first kept line, whatever was rejected or interleaved before it", async () => {
    const rows = await ws.query(
      `SELECT session_id, prompt, typed_text, keystrokes FROM ${ws.parquet('data/clean/sessions/*.parquet')} ORDER BY session_id`,
    );
    expect(rows).toEqual([
      { session_id: '7001', prompt: 'B', typed_text: 'b', keystrokes: 2 },
      { session_id: '7002', prompt: 'C', typed_text: 'c', keystrokes: 2 },
      { session_id: '7003', prompt: 'D', typed_text: 'd', keystrokes: 2 },
      { session_id: '7004', prompt: 'E', typed_text: 'e', keystrokes: 2 },
      { session_id: '7005', prompt: 'F', typed_text: 'f', keystrokes: 2 },
      { session_id: '7006', prompt: 'G', typed_text: 'g', keystrokes: 2 },
    ]);
  });

  it('leave the rejected lines in rejects at their lines', async () => {
    const rows = await ws.query(
      `SELECT rule, source_line FROM ${ws.parquet('data/clean/rejects/*.parquet')} ORDER BY source_line`,
    );
    expect(rows).toEqual([
      { rule: 'aalto_bad_number', source_line: 2 },
      { rule: 'aalto_bad_number', source_line: 5 },
      { rule: 'aalto_field_count', source_line: 10 },
      { rule: 'aalto_field_count', source_line: 13 },
    ]);
  });
});
