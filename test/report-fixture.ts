// Small, hand-written input tables for the report stage (docs/data-tables.md), written as Parquet by
// real DuckDB, so the report tests do not need the upstream stages. The typing below is chosen so
// every summary number can be derived by hand; report-stage.test.ts writes the derivations.
//
//   u1 (webapp/desktop)  s1: h i x ⌫ ⇧ !   (rollover i→x and ⇧→!)    s2: o k
//   u2 (aalto/desktop)   a1: t o ␣ a       (rollover t→o)
//   u3 (webapp/mobile)   m1: a             (one keystroke: no WPM, no pairs)
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export interface Keystroke {
  source: 'webapp' | 'aalto';
  platform: 'desktop' | 'mobile';
  user_id: string;
  session_id: string;
  press_ms: number;
  release_ms: number;
  key: string;
  keycode: number;
}

function k(
  source: Keystroke['source'],
  platform: Keystroke['platform'],
  user_id: string,
  session_id: string,
  press_ms: number,
  release_ms: number,
  key: string,
  keycode: number,
): Keystroke {
  return { source, platform, user_id, session_id, press_ms, release_ms, key, keycode };
}

export const keystrokes: Keystroke[] = [
  k('webapp', 'desktop', 'u1', 's1', 1000, 1100, 'h', 72),
  k('webapp', 'desktop', 'u1', 's1', 1250, 1330, 'i', 73),
  k('webapp', 'desktop', 'u1', 's1', 1300, 1380, 'x', 88),
  k('webapp', 'desktop', 'u1', 's1', 1500, 1560, 'Backspace', 8),
  k('webapp', 'desktop', 'u1', 's1', 1800, 2150, 'Shift', 16),
  k('webapp', 'desktop', 'u1', 's1', 2000, 2100, '!', 49),
  k('webapp', 'desktop', 'u1', 's2', 5000, 5100, 'o', 79),
  k('webapp', 'desktop', 'u1', 's2', 5400, 5480, 'k', 75),
  k('aalto', 'desktop', 'u2', 'a1', 10000, 10120, 't', 84),
  k('aalto', 'desktop', 'u2', 'a1', 10100, 10200, '', 79),
  k('aalto', 'desktop', 'u2', 'a1', 10400, 10450, ' ', 32),
  k('aalto', 'desktop', 'u2', 'a1', 10600, 10700, 'a', 65),
  k('webapp', 'mobile', 'u3', 'm1', 20000, 20090, 'a', 65),
];

/** The fixture's charts in page order (participants' session counts vary, so 'sessions' is shown). */
export const pageCharts = [
  ...['funnel', 'rejects', 'hl', 'il', 'pl', 'rl', 'spread', 'wpm', 'lengths', 'sessions'],
  ...['backspace', 'keys', 'digraphs'],
];

/**
 * A session whose IL spans -1,000 to 90,000 ms (a long rollover, pauses of seconds and a minute and
 * a half): on such a range the old symlog axis had more ticks than room for labels.
 */
export const wideIlSession: Keystroke[] = [
  [0, 1500],
  [500, 560],
  [700, 760],
  [3_000, 3_080],
  [93_080, 93_200],
  [93_210, 93_300],
].map(([press, release]) => k('webapp', 'desktop', 'u4', 'w1', press!, release!, 'e', 69));

export interface Reject {
  rule: string;
  source: string;
  source_file: string;
  source_line: number | null;
  detail: string;
}

export const rejects: Reject[] = [
  {
    rule: 'hold_negative',
    source: 'aalto',
    source_file: 'aalto/1466_keystrokes.txt',
    source_line: 300,
    detail: '-12',
  },
  {
    rule: 'hold_negative',
    source: 'aalto',
    source_file: 'aalto/1466_keystrokes.txt',
    source_line: 237,
    detail: '-6325',
  },
  {
    rule: 'hold_negative',
    source: 'aalto',
    source_file: 'aalto/1466_keystrokes.txt',
    source_line: 400,
    detail: '-3',
  },
  {
    rule: 'hold_negative',
    source: 'aalto',
    source_file: 'aalto/1466_keystrokes.txt',
    source_line: 12,
    detail: '-1',
  },
  {
    rule: 'repeat',
    source: 'webapp',
    source_file: 'webapp/s1.json',
    source_line: 5,
    detail: 'repeat keydown <Shift> & "a"',
  },
];

/** Consecutive keystrokes by press time in a session -> HL, IL, PL, RL (docs/data-tables.md). */
export function keypairsOf(rows: readonly Keystroke[]) {
  const pairs = [];
  for (let i = 0; i + 1 < rows.length; i++) {
    const a = rows[i]!;
    const b = rows[i + 1]!;
    if (a.session_id !== b.session_id) continue;
    pairs.push({
      source: a.source,
      platform: a.platform,
      user_id: a.user_id,
      session_id: a.session_id,
      seq: i,
      keycode1: a.keycode,
      keycode2: b.keycode,
      hl_ms: a.release_ms - a.press_ms,
      il_ms: b.press_ms - a.release_ms,
      pl_ms: b.press_ms - a.press_ms,
      rl_ms: b.release_ms - a.release_ms,
    });
  }
  return pairs;
}

function literal(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return Number.isInteger(v) ? `${v}` : `${v}::DOUBLE`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `'${String(v).replaceAll("'", "''")}'`;
}

/** Writes rows to a Parquet file; `types` gives each column's SQL type, in order. */
async function writeParquet(
  path: string,
  types: Record<string, string>,
  rows: readonly object[],
): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const cols = Object.entries(types);
  await conn.run(`CREATE TABLE t (${cols.map(([c, ty]) => `"${c}" ${ty}`).join(', ')})`);
  if (rows.length > 0) {
    const values = rows.map(
      (r) =>
        `(${cols.map(([c]) => literal((r as Record<string, unknown>)[c] ?? null)).join(', ')})`,
    );
    await conn.run(`INSERT INTO t VALUES ${values.join(', ')}`);
  }
  await conn.run(`COPY t TO '${path.replaceAll("'", "''")}' (FORMAT parquet)`);
  conn.closeSync();
  instance.closeSync();
}

/**
 * The fixture's tables are folders of two part files (docs/data-tables.md), split by session so
 * that u1's sessions lie in different parts (a user may span parts; a session lives in one):
 * part-000000 holds s1 and a1, part-000001 every other session. Both parts are always written,
 * empty ones with the schema, as clean writes them.
 */
const firstPartSessions = new Set(['s1', 'a1']);

async function writeParts(
  dir: string,
  types: Record<string, string>,
  rows: readonly object[],
  part: (row: Record<string, unknown>) => 0 | 1,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const id of [0, 1] as const)
    await writeParquet(
      join(dir, `part-00000${id}.parquet`),
      types,
      rows.filter((r) => part(r as Record<string, unknown>) === id),
    );
}

const bySession = (row: Record<string, unknown>): 0 | 1 =>
  firstPartSessions.has(String(row.session_id)) ? 0 : 1;

/** A pipeline.lock in the runner's format (lib/build/lockfile.ts) with these stage fingerprints. */
export function lockWith(fingerprints: Record<string, string>): string {
  const stages = Object.fromEntries(
    Object.entries(fingerprints).map(([name, fingerprint]) => [
      name,
      { fingerprint, cmd: {}, deps: {}, params: {}, env: {}, outs: {} },
    ]),
  );
  return `${JSON.stringify({ version: 1, stages }, null, 2)}\n`;
}

export interface FixtureOptions {
  /** Columns to leave out of data/clean/keystrokes/, to test the input check. */
  dropKeystrokeColumns?: string[];
  lock?: string;
  /** Every upload rejected: keystroke, key pair and sequence tables with no rows. */
  noKeystrokes?: boolean;
  /** More keystrokes after the fixture's (their pairs follow), e.g. to widen a latency range. */
  extraKeystrokes?: Keystroke[];
  /** Rows of the optional data/clean/sessions/ ((source, user_id, session_id) -> typed_text). */
  typedTexts?: { source: string; user_id: string; session_id: string; typed_text: string }[];
}

/** Writes the whole input set of the report stage under `workspace`. */
export async function writeReportInputs(
  workspace: string,
  opts: FixtureOptions = {},
): Promise<void> {
  for (const dir of ['data/raw', 'data/clean', 'data/keypairs', 'data/features'])
    await mkdir(join(workspace, dir), { recursive: true });
  const ksTypes: Record<string, string> = {
    source: 'VARCHAR',
    platform: 'VARCHAR',
    user_id: 'VARCHAR',
    session_id: 'VARCHAR',
    seq: 'INTEGER',
    press_ms: 'DOUBLE',
    release_ms: 'DOUBLE',
    key: 'VARCHAR',
    code: 'VARCHAR',
    keycode: 'INTEGER',
    source_file: 'VARCHAR',
    source_line: 'INTEGER',
  };
  for (const c of opts.dropKeystrokeColumns ?? []) delete ksTypes[c];
  const kept = opts.noKeystrokes ? [] : [...keystrokes, ...(opts.extraKeystrokes ?? [])];
  await writeParts(join(workspace, 'data/clean/keystrokes'), ksTypes, kept, bySession);
  await writeParts(
    join(workspace, 'data/clean/rejects'),
    {
      rule: 'VARCHAR',
      source: 'VARCHAR',
      source_file: 'VARCHAR',
      source_line: 'INTEGER',
      user_id: 'VARCHAR',
      session_id: 'VARCHAR',
      detail: 'VARCHAR',
    },
    rejects,
    (row) => (String(row.source_file).startsWith('aalto/') ? 0 : 1),
  );
  await writeParts(
    join(workspace, 'data/keypairs/keypairs'),
    {
      source: 'VARCHAR',
      platform: 'VARCHAR',
      user_id: 'VARCHAR',
      session_id: 'VARCHAR',
      seq: 'INTEGER',
      keycode1: 'INTEGER',
      keycode2: 'INTEGER',
      hl_ms: 'DOUBLE',
      il_ms: 'DOUBLE',
      pl_ms: 'DOUBLE',
      rl_ms: 'DOUBLE',
    },
    keypairsOf(kept),
    bySession,
  );
  // M = 4, at least 2 sessions per user: only u1 is kept. s1 has 5 pair vectors (truncated to 4),
  // s2 has 1 (then 3 padding rows): 8 rows, 3 of them padding.
  const seqRows = opts.noKeystrokes
    ? []
    : [0, 1, 2, 3].flatMap((position) => [
        { source: 'webapp', user_id: 'u1', session_id: 's1', position, is_padding: false },
        { source: 'webapp', user_id: 'u1', session_id: 's2', position, is_padding: position >= 1 },
      ]);
  await writeParts(
    join(workspace, 'data/features/sequences'),
    {
      source: 'VARCHAR',
      user_id: 'VARCHAR',
      session_id: 'VARCHAR',
      position: 'INTEGER',
      keycode_norm: 'DOUBLE',
      hl_s: 'DOUBLE',
      il_s: 'DOUBLE',
      pl_s: 'DOUBLE',
      rl_s: 'DOUBLE',
      is_padding: 'BOOLEAN',
    },
    seqRows,
    bySession,
  );
  await writeParquet(
    join(workspace, 'data/features/users.parquet'),
    { user_id: 'VARCHAR', sessions: 'INTEGER', sequences: 'INTEGER' },
    [{ user_id: 'u1', sessions: 2, sequences: 2 }],
  );
  const json = (rel: string, value: unknown) =>
    writeFile(join(workspace, rel), JSON.stringify(value, null, 2));
  await json('data/raw/manifest.json', {
    source: 'file:///uploads',
    files: ['webapp/s1.json', 'webapp/m1.json', 'aalto/2_keystrokes.txt'].map((path) => ({
      path,
      sha256: '0'.repeat(64),
      size: 1,
    })),
    deleted: [],
  });
  await json('data/clean/summary.json', {
    files_in: 3,
    events_in: 40,
    rows_in: 9,
    keystrokes_out: 13,
    sessions_out: 4,
    users_out: 3,
    rejected: { hold_negative: 4, repeat: 1 },
    by_source: {},
  });
  await json('data/features/summary.json', {
    M: 4,
    min_sessions_per_user: 2,
    users_kept: 1,
    users_dropped: 2,
    sequences: 2,
    padding_share: 0.375,
  });
  if (opts.typedTexts !== undefined) {
    await writeParts(
      join(workspace, 'data/clean/sessions'),
      { source: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', typed_text: 'VARCHAR' },
      opts.typedTexts,
      bySession,
    );
  }
  if (opts.lock !== undefined) await writeFile(join(workspace, 'pipeline.lock'), opts.lock);
}
