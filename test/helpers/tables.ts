// The keystroke pipeline's documented tables (docs/data-tables.md), read as multisets of rows,
// whatever their layout: a folder of Parquet part files, or one file. Two workspaces hold the
// same data when every table has the same rows the same number of times (`EXCEPT ALL` both
// ways, plus the counts), the same summary.json files and the same record counts in the lock.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Every table a from-scratch and an incremental build must agree on, workspace-relative. */
export const TABLES = [
  'data/clean/keystrokes',
  'data/clean/rejects',
  'data/clean/sessions',
  'data/keypairs/keypairs',
  'data/features/sequences',
  'data/features/users',
] as const;

export const SUMMARIES = ['data/clean/summary.json', 'data/features/summary.json'] as const;

/** The literal Parquet files of a table: its folder's parts, or `<table>.parquet`. */
export function tableFiles(root: string, table: string): string[] {
  const folder = join(root, table);
  if (existsSync(folder))
    return readdirSync(folder)
      .filter((f) => f.endsWith('.parquet'))
      .sort()
      .map((f) => join(folder, f));
  const file = `${folder}.parquet`;
  if (existsSync(file)) return [file];
  throw new Error(`${root} has no table ${table} (neither a folder of parts nor ${table}.parquet)`);
}

const list = (files: readonly string[]): string =>
  `[${files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ')}]`;

export interface TableDifference {
  readonly table: string;
  readonly rowsA: number;
  readonly rowsB: number;
  /** Rows (with multiplicity) in A and not in B, and the other way round. */
  readonly onlyInA: number;
  readonly onlyInB: number;
  /** Up to three rows of each side's surplus, as JSON, for the failure message. */
  readonly examples: readonly string[];
}

/** Each table whose multiset of rows differs between workspaces `a` and `b`; [] when all agree. */
export async function differingTables(a: string, b: string): Promise<TableDifference[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const differences: TableDifference[] = [];
  try {
    for (const table of TABLES) {
      const fa = tableFiles(a, table);
      const fb = tableFiles(b, table);
      // union_by_name: an empty part's schema is the table's; the columns are compared by name.
      const ra = `read_parquet(${list(fa)}, union_by_name = true)`;
      const rb = `read_parquet(${list(fb)}, union_by_name = true)`;
      const reader = await conn.runAndReadAll(`
        SELECT (SELECT count(*) FROM ${ra})::BIGINT AS rows_a, (SELECT count(*) FROM ${rb})::BIGINT AS rows_b,
               (SELECT count(*) FROM (SELECT * FROM ${ra} EXCEPT ALL SELECT * FROM ${rb}))::BIGINT AS only_a,
               (SELECT count(*) FROM (SELECT * FROM ${rb} EXCEPT ALL SELECT * FROM ${ra}))::BIGINT AS only_b`);
      const [rowsA, rowsB, onlyA, onlyB] = (reader.getRows()[0] ?? []).map(Number) as number[];
      if (rowsA !== rowsB || onlyA !== 0 || onlyB !== 0) {
        const sample = await conn.runAndReadAll(`
          (SELECT 'only in A' AS side, to_json(x)::VARCHAR AS row FROM (SELECT * FROM ${ra} EXCEPT ALL SELECT * FROM ${rb}) x LIMIT 3)
          UNION ALL
          (SELECT 'only in B', to_json(x)::VARCHAR FROM (SELECT * FROM ${rb} EXCEPT ALL SELECT * FROM ${ra}) x LIMIT 3)`);
        differences.push({
          table,
          rowsA: rowsA ?? -1,
          rowsB: rowsB ?? -1,
          onlyInA: onlyA ?? -1,
          onlyInB: onlyB ?? -1,
          examples: sample.getRows().map((r) => `${String(r[0])}: ${String(r[1])}`),
        });
      }
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  return differences;
}

/** A summary.json with its lists sorted, so a layout's file order cannot make two differ. */
export function readSummary(root: string, rel: string): unknown {
  return sortLists(JSON.parse(readFileSync(join(root, rel), 'utf8')));
}

function sortLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortLists).sort();
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sortLists(v)]));
  return value;
}

/** The lock's metrics (record counts) of the named stages. */
export function lockMetrics(root: string, stages: readonly string[]): Record<string, unknown> {
  const lock = JSON.parse(readFileSync(join(root, 'pipeline.lock'), 'utf8')) as {
    stages: Record<string, { metrics?: unknown }>;
  };
  return Object.fromEntries(stages.map((s) => [s, lock.stages[s]?.metrics ?? null]));
}
