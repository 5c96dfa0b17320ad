// Runs stage clean the way the runner does (docs/stage-contract.md), from scratch or incrementally,
// into out folders the test keeps, and compares two builds' outputs row for row. An incremental
// run gets what the runner gives it: a fresh temp out path holding the previous outputs as HARD
// LINKS, and PIPE_INCREMENTAL naming the dep files that changed (computed here by hashing the
// files before and after, independently of clean's own manifest comparison).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { REPO } from './run-stage.js';

const TSX = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;
export const CLEAN_PARAMS = {
  'clean.max_hold_ms': 5000,
  'clean.min_keystrokes_per_session': 10,
  'clean.max_upload_bytes': 16777216,
  'clean.max_decompressed_bytes': 16777216,
};
export const CLEAN_TABLES = ['keystrokes', 'rejects', 'sessions'] as const;

export interface CleanRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly out: string;
  readonly metrics: unknown;
}

export interface DepChanges {
  added: string[];
  modified: string[];
  deleted: string[];
}

/**
 * One clean run in `workspace` writing a new out folder under `scratch`. With `incremental`, the
 * previous out folder is linked in first and the changes are passed as PIPE_INCREMENTAL.
 */
export function runClean(
  workspace: string,
  scratch: string,
  env: Record<string, string>,
  incremental?: { readonly previous: string; readonly deps: Record<string, DepChanges> },
): CleanRun {
  const temp = mkdtempSync(join(scratch, 'run-'));
  const out = join(temp, 'clean');
  const vars: Record<string, string> = {};
  if (incremental !== undefined) {
    linkTree(incremental.previous, out);
    const file = join(temp, 'incremental.json');
    writeFileSync(file, JSON.stringify({ deps: incremental.deps }));
    vars.PIPE_INCREMENTAL = file;
  }
  const metricsFile = join(temp, 'metrics.json');
  const result = spawnSync('node', ['--import', TSX, join(REPO, 'stages/clean.ts')], {
    cwd: workspace,
    encoding: 'utf8',
    env: {
      ...process.env,
      CI: 'true',
      ...env,
      ...vars,
      PIPE_WORKSPACE: workspace,
      PIPE_STAGE: 'clean',
      PIPE_DEPS: JSON.stringify(['data/raw', 'config/upload.schema.json']),
      PIPE_OUTS: JSON.stringify({ 'data/clean': out }),
      PIPE_PARAMS: JSON.stringify(CLEAN_PARAMS),
      PIPE_METRICS_FILE: metricsFile,
    },
  });
  const metrics = existsSync(metricsFile)
    ? JSON.parse(readFileSync(metricsFile, 'utf8'))
    : undefined;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, out, metrics };
}

function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.isDirectory()) linkTree(join(from, entry.name), join(to, entry.name));
    else linkSync(join(from, entry.name), join(to, entry.name));
  }
}

/** Every file under `root` (relative posix path) -> sha256 of its bytes. */
export function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      if (entry.isDirectory()) walk(abs);
      else
        files.set(
          relative(root, abs).split('\\').join('/'),
          createHash('sha256').update(readFileSync(abs)).digest('hex'),
        );
    }
  };
  walk(root);
  return files;
}

/** What changed from `before` to `after`, paths prefixed as the runner writes them (sorted). */
export function changes(
  before: Map<string, string>,
  after: Map<string, string>,
  prefix: string,
): DepChanges {
  const c: DepChanges = { added: [], modified: [], deleted: [] };
  for (const [path, hash] of after) {
    const was = before.get(path);
    if (was === undefined) c.added.push(prefix + path);
    else if (was !== hash) c.modified.push(prefix + path);
  }
  for (const path of before.keys()) if (!after.has(path)) c.deleted.push(prefix + path);
  for (const list of Object.values(c)) list.sort();
  return c;
}

export function tableFiles(out: string, table: string): string[] {
  return readdirSync(join(out, table))
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => join(out, table, f));
}

const list = (files: readonly string[]) =>
  `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;

/** Rows of one query in a fresh DuckDB (BIGINT cast in SQL). */
export async function query<T>(sql: string): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as T[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export interface TableDiff {
  readonly table: string;
  readonly rowsA: number;
  readonly rowsB: number;
  /** Rows of A missing from B, and of B missing from A, as multisets (EXCEPT ALL). */
  readonly onlyA: number;
  readonly onlyB: number;
}

/** Each table of two clean outputs compared as multisets of rows. */
export async function compareTables(a: string, b: string): Promise<TableDiff[]> {
  const diffs: TableDiff[] = [];
  for (const table of CLEAN_TABLES) {
    const [fa, fb] = [tableFiles(a, table), tableFiles(b, table)];
    if (fa.length === 0 || fb.length === 0) {
      // No parts on a side (no uploads): every row of the other side is a difference.
      const rows = async (files: string[]) =>
        files.length === 0
          ? 0
          : (
              await query<{ n: number }>(
                `SELECT count(*)::INTEGER AS n FROM read_parquet(${list(files)})`,
              )
            )[0]!.n;
      const [rowsA, rowsB] = [await rows(fa), await rows(fb)];
      diffs.push({ table, rowsA, rowsB, onlyA: rowsA, onlyB: rowsB });
      continue;
    }
    const ra = `read_parquet(${list(fa)})`;
    const rb = `read_parquet(${list(fb)})`;
    const [row] = await query<{ a: number; b: number; x: number; y: number }>(`SELECT
      (SELECT count(*) FROM ${ra})::INTEGER AS a, (SELECT count(*) FROM ${rb})::INTEGER AS b,
      (SELECT count(*) FROM (SELECT * FROM ${ra} EXCEPT ALL SELECT * FROM ${rb}))::INTEGER AS x,
      (SELECT count(*) FROM (SELECT * FROM ${rb} EXCEPT ALL SELECT * FROM ${ra}))::INTEGER AS y`);
    diffs.push({ table, rowsA: row!.a, rowsB: row!.b, onlyA: row!.x, onlyB: row!.y });
  }
  return diffs;
}

/**
 * The layout rules of docs/data-tables.md that hold for any build: every part id has its three
 * tables and its record, and no session spans two parts. Returns the violations (empty: none).
 */
export async function layoutProblems(out: string): Promise<string[]> {
  const problems: string[] = [];
  const ids = readdirSync(join(out, 'parts'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
  for (const id of ids) {
    if (!/^part-\d{6}$/.test(id)) problems.push(`bad part id ${id}`);
    for (const table of CLEAN_TABLES)
      if (!existsSync(join(out, table, `${id}.parquet`))) problems.push(`${table}/${id} missing`);
  }
  for (const table of CLEAN_TABLES) {
    const names = readdirSync(join(out, table)).map((f) => f.replace(/\.parquet$/, ''));
    if (names.join() !== ids.join()) problems.push(`${table} holds ${names.join()} for ${ids}`);
  }
  const files = tableFiles(out, 'keystrokes');
  if (files.length > 0) {
    const [row] = await query<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (
      SELECT source, user_id, session_id FROM read_parquet(${list(files)}, filename = true)
      GROUP BY ALL HAVING count(DISTINCT filename) > 1)`);
    if (row!.n > 0) problems.push(`${row!.n} sessions span parts`);
  }
  return problems;
}

/** True when no file of `dir` changed since `before` (the previous outputs an incremental run linked). */
export function unchangedSince(dir: string, before: Map<string, string>): boolean {
  const now = snapshot(dir);
  return now.size === before.size && [...before].every(([p, h]) => now.get(p) === h);
}

export function inode(path: string): number {
  return statSync(path).ino;
}
