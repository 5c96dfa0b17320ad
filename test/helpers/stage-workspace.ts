// Temp workspaces for stage tests: the repo's config (schema, .env.base) plus the files a test
// writes inline, so each test owns its folder and nothing leaks between tests.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { REPO } from './run-stage.js';

export interface Workspace {
  readonly root: string;
  write(path: string, content: string | Buffer): void;
  read(path: string): string;
  json<T = Record<string, unknown>>(path: string): T;
  /** Rows of a SQL query run by a fresh in-memory DuckDB (BIGINT as string: cast in SQL). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** `read_parquet('<root>/<path>')`, for queries. */
  parquet(path: string): string;
  remove(): void;
}

export function tempWorkspace(files: Record<string, string | Buffer> = {}): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'pipe-stages-'));
  mkdirSync(join(root, 'config'));
  cpSync(join(REPO, 'config/upload.schema.json'), join(root, 'config/upload.schema.json'));
  cpSync(join(REPO, 'config/.env.base'), join(root, 'config/.env.base'));
  const write = (path: string, content: string | Buffer) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  };
  for (const [path, content] of Object.entries(files)) write(path, content);
  return {
    root,
    write,
    read: (path) => readFileSync(join(root, path), 'utf8'),
    json: (path) => JSON.parse(readFileSync(join(root, path), 'utf8')),
    async query<T>(sql: string) {
      const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
      const connection = await instance.connect();
      try {
        return (await connection.runAndReadAll(sql)).getRowObjectsJson() as T[];
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
    parquet: (path) => `read_parquet('${join(root, path).replaceAll("'", "''")}')`,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
