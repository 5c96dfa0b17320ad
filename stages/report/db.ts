// The report's DuckDB connection: in memory, never reaching for the network, rows as plain JS.
// TODO(report): switch to stages/duckdb.ts (memory limit and threads from config) once the stages
// branch lands it; this file then shrinks to the row helper.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface Db {
  /** Runs a query and returns its rows. Cast BIGINT to DOUBLE or INTEGER in the SQL: JS gets numbers. */
  rows<T>(sql: string): Promise<T[]>;
  close(): void;
}

export async function openDb(): Promise<Db> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn: DuckDBConnection = await instance.connect();
  // Extensions would be downloaded on first use; the machine has no network, and a report must
  // not depend on one. json and parquet are built in.
  await conn.run('SET autoinstall_known_extensions=false; SET autoload_known_extensions=false;');
  return {
    async rows<T>(sql: string): Promise<T[]> {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJS() as T[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** A path as a single-quoted SQL string literal. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
