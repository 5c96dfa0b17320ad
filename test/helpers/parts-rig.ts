// Tools for tests of the partitioned tables (docs/data-tables.md): write clean keystrokes parts,
// re-split a clean output into parts by session, list a folder's files with their hashes and diff
// two listings as the runner does for an incremental run, and compare two tables as multisets.
import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import type { StageSpec } from './run-stage.js';
import type { Workspace } from './stage-workspace.js';

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** One clean keystrokes row (docs/data-tables.md), before seq: the part writer numbers them. */
export interface KeystrokeRow {
  readonly source: 'webapp' | 'aalto';
  readonly platform: 'desktop' | 'mobile';
  readonly user_id: string;
  readonly session_id: string;
  readonly press_ms: number;
  readonly release_ms: number;
  readonly keycode: number;
}

const KEYSTROKE_COLUMNS = `source VARCHAR, platform VARCHAR, user_id VARCHAR, session_id VARCHAR,
  seq INTEGER, press_ms DOUBLE, release_ms DOUBLE, key VARCHAR, code VARCHAR, keycode INTEGER,
  source_file VARCHAR, source_line INTEGER`;

/**
 * Writes `rows` as one clean keystrokes part at `rel`, in the order clean writes (each session one
 * run in (source, user_id, session_id) order, seq 0, 1, ... by press time); no rows: an empty file
 * with the schema, as clean writes one.
 */
export async function writeKeystrokesPart(
  ws: Workspace,
  rel: string,
  rows: readonly KeystrokeRow[],
): Promise<void> {
  mkdirSync(join(ws.root, rel, '..'), { recursive: true });
  const values = rows.map(
    (r, i) =>
      `(${quote(r.source)}, ${quote(r.platform)}, ${quote(r.user_id)}, ${quote(r.session_id)}, ${r.press_ms}::DOUBLE, ${r.release_ms}::DOUBLE, ${r.keycode}, ${i})`,
  );
  const body =
    values.length === 0
      ? `SELECT * FROM (SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS platform, NULL::VARCHAR AS user_id,
           NULL::VARCHAR AS session_id, NULL::DOUBLE AS press_ms, NULL::DOUBLE AS release_ms, NULL::INTEGER AS keycode,
           NULL::INTEGER AS n) WHERE false`
      : `SELECT * FROM (VALUES ${values.join(', ')}) t(source, platform, user_id, session_id, press_ms, release_ms, keycode, n)`;
  await ws.query(`CREATE TABLE part (${KEYSTROKE_COLUMNS});
    INSERT INTO part SELECT source, platform, user_id, session_id,
      (row_number() OVER (PARTITION BY source, user_id, session_id ORDER BY press_ms, n) - 1)::INTEGER,
      press_ms, release_ms, chr(keycode), NULL, keycode::INTEGER, source || '/' || session_id, n::INTEGER
    FROM (${body});
    COPY (SELECT * FROM part ORDER BY source, user_id, session_id, seq)
      TO ${quote(join(ws.root, rel))} (FORMAT parquet)`);
}

/** The clean table `name` as one relation, from its folder of parts or the single file before parts. */
function cleanTable(ws: Workspace, name: string): string {
  const folder = join(ws.root, 'data/clean', name);
  return existsSync(folder)
    ? ws.parquet(`data/clean/${name}/*.parquet`)
    : ws.parquet(`data/clean/${name}.parquet`);
}

/**
 * Rewrites data/clean's keystrokes, rejects and sessions as `n` parts each, a valid clean output
 * (docs/data-tables.md): sessions dealt round-robin in (source, user_id, session_id) order, so each
 * session lives in one part and every user with n or more sessions spans parts; rejects go with
 * their session's part, rejects of no kept session to part-000000.
 */
export async function splitCleanIntoParts(ws: Workspace, n: number): Promise<void> {
  const tables = ['keystrokes', 'rejects', 'sessions'] as const;
  const sql = [
    `CREATE TABLE sessions_part AS SELECT source, user_id, session_id,
       ((row_number() OVER (ORDER BY source, user_id, session_id) - 1) % ${n})::INTEGER AS part
     FROM (SELECT DISTINCT source, user_id, session_id FROM ${cleanTable(ws, 'keystrokes')})`,
    // Row numbers in file order (one thread: ws.query), so each part keeps clean's row order.
    ...tables.map(
      (t) =>
        `CREATE TABLE t_${t} AS SELECT *, row_number() OVER () AS file_row FROM ${cleanTable(ws, t)}`,
    ),
  ];
  // Written beside the tables first: the statements read the tables being replaced.
  const staging = join(ws.root, 'data/clean.split');
  for (const t of tables) mkdirSync(join(staging, t), { recursive: true });
  for (let part = 0; part < n; part++)
    for (const t of tables)
      sql.push(`COPY (SELECT t.* EXCLUDE (file_row) FROM t_${t} t
          LEFT JOIN sessions_part s USING (source, user_id, session_id)
          WHERE coalesce(s.part, 0) = ${part} ORDER BY file_row)
        TO ${quote(join(staging, t, `${partId(part)}.parquet`))} (FORMAT parquet)`);
  await ws.query(sql.join(';\n'));
  for (const t of tables) {
    rmSync(join(ws.root, 'data/clean', t), { recursive: true, force: true });
    rmSync(join(ws.root, `data/clean/${t}.parquet`), { force: true });
    renameSync(join(staging, t), join(ws.root, 'data/clean', t));
  }
  rmSync(staging, { recursive: true });
}

export const partId = (n: number) => `part-${String(n).padStart(6, '0')}`;

/** Every file under `dir` (workspace-relative) -> its sha256, keys workspace-relative posix paths. */
export function fileHashes(root: string, dir: string): Map<string, string> {
  const hashes = new Map<string, string>();
  const walk = (abs: string) => {
    if (!existsSync(abs)) return;
    if (statSync(abs).isFile()) {
      hashes.set(
        relative(root, abs).split('\\').join('/'),
        createHash('sha256').update(readFileSync(abs)).digest('hex'),
      );
      return;
    }
    for (const name of readdirSync(abs)) walk(join(abs, name));
  };
  walk(join(root, dir));
  return hashes;
}

/** What changed from `before` to `after`, as PIPE_INCREMENTAL lists it for one dep (sorted). */
export function diffFiles(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): { added: string[]; modified: string[]; deleted: string[] } {
  const added = [...after.keys()].filter((p) => !before.has(p)).sort();
  const modified = [...after.keys()]
    .filter((p) => before.has(p) && before.get(p) !== after.get(p))
    .sort();
  const deleted = [...before.keys()].filter((p) => !after.has(p)).sort();
  return { added, modified, deleted };
}

/**
 * `spec` as the runner would start it once `dep`'s files went from `before` to `now`: from scratch
 * when it never ran (`before` undefined), else incrementally, told what changed.
 */
export function asRunnerWould(
  spec: StageSpec,
  dep: string,
  before: ReadonlyMap<string, string> | undefined,
  now: ReadonlyMap<string, string>,
): StageSpec {
  return before === undefined
    ? spec
    : { ...spec, incremental: { deps: { [dep]: diffFiles(before, now) } } };
}

/** The Parquet files of a table folder, sorted (a literal list, as the stages read them). */
export function tableFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) throw new Error(`${dir} is missing under ${root}`);
  return readdirSync(abs)
    .filter((name) => name.endsWith('.parquet'))
    .sort()
    .map((name) => join(abs, name));
}

export interface TableDiff {
  readonly rowsA: number;
  readonly rowsB: number;
  /** Rows of A not matched by a row of B, counting duplicates (EXCEPT ALL), and the reverse. */
  readonly onlyA: number;
  readonly onlyB: number;
  /** Column names and types, as DESCRIBE prints them. */
  readonly columnsA: string;
  readonly columnsB: string;
}

/**
 * Two tables, each given as a list of Parquet files, compared as multisets of rows: equal exactly
 * when onlyA = onlyB = 0 and the row counts and columns agree. Doubles compare exactly.
 */
export async function compareTables(
  ws: Workspace,
  filesA: readonly string[],
  filesB: readonly string[],
): Promise<TableDiff> {
  if (filesA.length === 0 || filesB.length === 0)
    throw new Error(
      'compareTables: a table with no files (every table here has at least one part)',
    );
  const a = `read_parquet([${filesA.map(quote).join(', ')}])`;
  const b = `read_parquet([${filesB.map(quote).join(', ')}])`;
  const [row] = await ws.query<TableDiff>(`SELECT
      (SELECT count(*) FROM ${a})::INTEGER AS rowsA,
      (SELECT count(*) FROM ${b})::INTEGER AS rowsB,
      (SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b}))::INTEGER AS onlyA,
      (SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a}))::INTEGER AS onlyB,
      (SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM ${a})) AS columnsA,
      (SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM ${b})) AS columnsB`);
  if (row === undefined) throw new Error('bug: a SELECT without FROM returned no row');
  return row;
}

/** Hard-links every file under `from` to the same path under `to` (a guard copy of outputs). */
export function linkCopy(from: string, to: string): void {
  if (statSync(from).isFile()) {
    mkdirSync(join(to, '..'), { recursive: true });
    linkSync(from, to);
    return;
  }
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) linkCopy(join(from, name), join(to, name));
}

export { seededRandom } from './seeded-random.js';
