// Many Aalto files through clean: more files than one parse batch holds (256 per batch,
// stages/shared/clean-load.ts), so the batches run on several DuckDB connections at once and append to
// one table. Every line of every file must land exactly once, kept or rejected, whatever order the
// batches finish in. The files are written here, so the expected rows are known without DuckDB:
//   file i (i = 0..599): participant 5000+i, one section 7000+i, 12 keystrokes, key k pressed at
//   1,000,000 + 1000 i + 150 k ms and held 90 + k ms; every 7th file also has a line with 8 fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const FILES = 600;
const KEYS = 12;
const HEADER =
  'PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\tRELEASE_TIME\tLETTER\tKEYCODE';
const planted = (i: number): boolean => i % 7 === 0;
const press = (i: number, k: number): number => 1_000_000 + 1000 * i + 150 * k;
/** Code-unit order, as DuckDB sorts VARCHAR. */
const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function aaltoFile(i: number): string {
  const lines = [HEADER];
  for (let k = 0; k < KEYS; k++) {
    lines.push(
      [
        5000 + i,
        7000 + i,
        'the text',
        'the text',
        100 * i + k,
        press(i, k),
        press(i, k) + 90 + k,
        'a',
        65,
      ].join('\t'),
    );
    if (k === 5 && planted(i))
      lines.push([5000 + i, 7000 + i, 'the text', 'the text', 'x', 1, 2, 65].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

let ws: Workspace;
beforeAll(() => {
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`uploads/aalto/${5000 + i}_keystrokes.txt`] = aaltoFile(i);
  ws = tempWorkspace(files);
  runStages(ws.root, [
    { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } },
    STAGES.clean,
  ]);
}, 120_000);
afterAll(() => ws.remove());

describe('more Aalto files than one parse batch', () => {
  it('keeps every keystroke of every file once, in session order with seq by press time', async () => {
    const rows = await ws.query<{
      user_id: string;
      seq: number;
      press_ms: number;
      hold: number;
      source_line: number;
    }>(
      `SELECT user_id, seq, press_ms, release_ms - press_ms AS hold, source_line FROM ${ws.parquet('data/clean/keystrokes/*.parquet')}`,
    );
    const expected = [];
    // Sessions come out in (source, user_id, session_id) order: user ids sort as strings.
    for (const i of [...Array(FILES).keys()].sort((a, b) =>
      byCodeUnits(String(5000 + a), String(5000 + b)),
    )) {
      for (let k = 0; k < KEYS; k++) {
        // Line 1 is the header; the planted line sits after keystroke 5 and pushes the rest down.
        const line = 2 + k + (planted(i) && k > 5 ? 1 : 0);
        expected.push({
          user_id: String(5000 + i),
          seq: k,
          press_ms: press(i, k),
          hold: 90 + k,
          source_line: line,
        });
      }
    }
    expect(rows).toEqual(expected);
  });

  it('rejects exactly the planted lines, one per seventh file, with their line numbers', async () => {
    const rows = await ws.query<{ rule: string; source_file: string; source_line: number }>(
      `SELECT rule, source_file, source_line FROM ${ws.parquet('data/clean/rejects/*.parquet')} ORDER BY source_file`,
    );
    const expected = [...Array(FILES).keys()]
      .filter(planted)
      .map((i) => ({
        rule: 'aalto_field_count',
        source_file: `aalto/${5000 + i}_keystrokes.txt`,
        source_line: 8,
      }))
      .sort((a, b) => byCodeUnits(a.source_file, b.source_file));
    expect(rows).toEqual(expected);
    expect(ws.json('data/clean/summary.json')).toMatchObject({
      rows_in: FILES * KEYS + expected.length,
      keystrokes_out: FILES * KEYS,
    });
  });
});
