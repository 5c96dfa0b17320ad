// The real Aalto 136M files (samples/aalto, byte-exact copies; Dhakal et al., CHI 2018) through
// download -> clean -> keypairs -> features. Expected numbers come from the data set's README
// (line numbers of its traps), from plain-JS counts of the files here, or from hand arithmetic.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const AALTO = join(REPO, 'samples/aalto');
const files = readdirSync(AALTO)
  .filter((f) => f.endsWith('_keystrokes.txt'))
  .sort();
/** Data lines of a file, counted without DuckDB: split on LF, drop the header and the empty tail. */
const dataLines = (file: string) =>
  readFileSync(join(AALTO, file), 'latin1')
    .split('\n')
    .slice(1)
    .filter((l, i, all) => !(i === all.length - 1 && l === ''));

// The traps the data README lists, with their 1-based line numbers (header = line 1).
const EXPECTED_REJECTS = [
  { rule: 'hold_over_max', source_file: 'aalto/1371_keystrokes.txt', source_line: 276 }, // 15.7 s
  { rule: 'hold_over_max', source_file: 'aalto/1371_keystrokes.txt', source_line: 531 }, // 14.5 s
  { rule: 'hold_negative', source_file: 'aalto/1466_keystrokes.txt', source_line: 237 }, // -6325 ms
  { rule: 'hold_zero', source_file: 'aalto/529_keystrokes.txt', source_line: 444 },
  { rule: 'hold_over_max', source_file: 'aalto/529_keystrokes.txt', source_line: 627 }, // 33.5 s
];

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace(
    Object.fromEntries(files.map((f) => [`uploads/aalto/${f}`, readFileSync(join(AALTO, f))])),
  );
  runStages(ws.root, [
    { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } },
    STAGES.clean,
    STAGES.keypairs,
    STAGES.features,
  ]);
});
afterAll(() => ws.remove());

describe('the Aalto samples', () => {
  it('are byte-exact copies (SHA-256 as published in the team data README)', () => {
    const sha = (f: string) =>
      createHash('sha256')
        .update(readFileSync(join(AALTO, f)))
        .digest('hex');
    expect(Object.fromEntries([...files, 'readme.txt'].map((f) => [f, sha(f)]))).toEqual({
      '102_keystrokes.txt': 'b580ca1d43a6932b8a6fc33eaa2e5bdea4d96a84c63b8399ecc74b698d67d2d2',
      '1371_keystrokes.txt': 'c5326bc51f11de313b1229a56447d5312bf4b5243b6cf50b361f3a624ec7ae9c',
      '1466_keystrokes.txt': '0e59604bf56ada77cfe2e5b9acdb17695aa48d9cbafd3da01e8d778181c9bf46',
      '1628_keystrokes.txt': 'e2f41c4128d1bec8fee6014af904d6ead51d59f47ee85c9c0de032b16af109b1',
      '2404_keystrokes.txt': '8ff4690fa5524f6016715751a28d7cc546ef9c4c626d7dd4a0df803e310986b8',
      '2917_keystrokes.txt': 'c4ee67f5add656df797e07b389e5806269871eb98cdc5145a97b597e0393ebf6',
      '529_keystrokes.txt': '6a73fe67ddca38a28517ae718b4d1d7da13984861c52f2971c40c343481ee833',
      'readme.txt': 'c81fcbee7e98e53a5bc789074207ec338e66edd204bbf9a160c8edfaf098a08c',
    });
  });
});

describe('the Aalto files through clean', () => {
  it('accounts for every data line of every file: kept or rejected', async () => {
    const rows = await ws.query<{ f: string; n: number }>(`SELECT f, sum(n)::INTEGER AS n FROM (
        SELECT source_file AS f, count(*) AS n FROM ${ws.parquet('data/clean/keystrokes/*.parquet')} GROUP BY ALL
        UNION ALL SELECT source_file, count(*) FROM ${ws.parquet('data/clean/rejects/*.parquet')} GROUP BY ALL) GROUP BY f ORDER BY f`);
    expect(rows).toEqual(files.map((f) => ({ f: `aalto/${f}`, n: dataLines(f).length })));
    expect(ws.json('data/clean/summary.json').rows_in).toBe(
      files.reduce((sum, f) => sum + dataLines(f).length, 0),
    );
  });

  it('rejects exactly the holds the data README lists, and nothing else', async () => {
    const rows = await ws.query(
      `SELECT rule, source_file, source_line FROM ${ws.parquet('data/clean/rejects/*.parquet')} ORDER BY source_file, source_line`,
    );
    expect(rows).toEqual(EXPECTED_REJECTS);
    expect(ws.json('data/clean/summary.json').rejected).toEqual({
      hold_negative: 1,
      hold_over_max: 3,
      hold_zero: 1,
    });
  });

  it('keeps the traps a careless reader would lose: lone quotes, Latin-1, e-notation, keyCode 0', async () => {
    const rows =
      await ws.query(`SELECT source_file, source_line, key, release_ms, keycode FROM ${ws.parquet('data/clean/keystrokes/*.parquet')}
      WHERE (source_file, source_line) IN (('aalto/102_keystrokes.txt', 556), ('aalto/2404_keystrokes.txt', 54),
        ('aalto/2917_keystrokes.txt', 33), ('aalto/1628_keystrokes.txt', 459), ('aalto/1371_keystrokes.txt', 350)) ORDER BY source_file`);
    expect(rows).toEqual(
      [
        {
          source_file: 'aalto/1371_keystrokes.txt',
          source_line: 350,
          key: '',
          release_ms: 1471953659045,
          keycode: 0,
        },
        {
          source_file: 'aalto/1628_keystrokes.txt',
          source_line: 459,
          key: 'y',
          release_ms: 1471956553729,
          keycode: 89,
        },
        {
          source_file: 'aalto/102_keystrokes.txt',
          source_line: 556,
          key: '"',
          release_ms: 1471936007740,
          keycode: 222,
        },
        {
          source_file: 'aalto/2404_keystrokes.txt',
          source_line: 54,
          key: 'ì',
          release_ms: 1471963455702,
          keycode: 221,
        },
        {
          source_file: 'aalto/2917_keystrokes.txt',
          source_line: 33,
          key: 'H',
          release_ms: 1471968000000,
          keycode: 72,
        },
      ].sort((a, b) => (a.source_file < b.source_file ? -1 : 1)),
    );
  });
});

describe('the Aalto files through keypairs and features', () => {
  it('gives the first pairs of participant 102, section 809, as the raw times say', async () => {
    // 102_keystrokes.txt lines 2-5 (PRESS_TIME, RELEASE_TIME), minus 1471935800000:
    //   t (9182, 9275)   h (9340, 9419)   BKSP (9886, 9932)   BKSP (10025, 10094)
    const rows =
      await ws.query(`SELECT keycode1, keycode2, hl_ms, il_ms, pl_ms, rl_ms FROM ${ws.parquet('data/keypairs/keypairs/*.parquet')}
      WHERE session_id = '809' AND seq < 3 ORDER BY seq`);
    expect(rows).toEqual([
      {
        keycode1: 84,
        keycode2: 72,
        hl_ms: 9275 - 9182,
        il_ms: 9340 - 9275,
        pl_ms: 9340 - 9182,
        rl_ms: 9419 - 9275,
      }, // 93, 65, 158, 144
      {
        keycode1: 72,
        keycode2: 8,
        hl_ms: 9419 - 9340,
        il_ms: 9886 - 9419,
        pl_ms: 9886 - 9340,
        rl_ms: 9932 - 9419,
      }, // 79, 467, 546, 513
      {
        keycode1: 8,
        keycode2: 8,
        hl_ms: 9932 - 9886,
        il_ms: 10025 - 9932,
        pl_ms: 10025 - 9886,
        rl_ms: 10094 - 9932,
      }, // 46, 93, 139, 162
    ]);
  });

  it('holds PL = HL + IL on every pair, and keeps rollover as negative IL (counted independently)', async () => {
    const [facts] = await ws.query<{
      n: number;
      broken: number;
      rollover: number;
    }>(`SELECT count(*)::INTEGER AS n,
      count(*) FILTER (pl_ms <> hl_ms + il_ms)::INTEGER AS broken, count(*) FILTER (il_ms < 0)::INTEGER AS rollover
      FROM ${ws.parquet('data/keypairs/keypairs/*.parquet')}`);
    // Independent count in plain JS: per section, rows by press time (the files' order), minus the
    // five rejected rows; a pair rolls over when the next press comes before this release.
    const rejected = new Set(EXPECTED_REJECTS.map((r) => `${r.source_file}:${r.source_line}`));
    let pairs = 0;
    let rollover = 0;
    for (const file of files) {
      const bySection = new Map<string, { press: number; release: number; line: number }[]>();
      dataLines(file).forEach((line, i) => {
        if (rejected.has(`aalto/${file}:${i + 2}`)) return;
        const f = line.split('\t');
        const list = bySection.get(f[1]!) ?? [];
        list.push({ press: Number(f[5]), release: Number(f[6]), line: i + 2 });
        bySection.set(f[1]!, list);
      });
      for (const rows of bySection.values()) {
        rows.sort((a, b) => a.press - b.press || a.line - b.line);
        for (let i = 0; i + 1 < rows.length; i++) {
          pairs++;
          if (rows[i + 1]!.press < rows[i]!.release) rollover++;
        }
      }
    }
    expect(facts).toEqual({ n: pairs, broken: 0, rollover });
    expect(rollover).toBeGreaterThan(pairs / 10);
  });

  it('keeps all 7 participants with their 15 sections as TypeNet sequences of 50', async () => {
    expect(
      await ws.query(
        `SELECT count(*)::INTEGER AS users, min(sessions) AS lo, max(sequences) AS hi FROM ${ws.parquet('data/features/users.parquet')}`,
      ),
    ).toEqual([{ users: 7, lo: 15, hi: 15 }]);
    const [shape] =
      await ws.query(`SELECT count(*)::INTEGER AS n, count(DISTINCT session_id)::INTEGER AS s, max(position) AS maxpos
      FROM ${ws.parquet('data/features/sequences/*.parquet')}`);
    expect(shape).toEqual({ n: 105 * 50, s: 105, maxpos: 49 });
  });
});
