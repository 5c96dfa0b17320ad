// Opens DuckDB for a stage: in-memory database, memory limit and threads from config, and no
// extension auto-install or auto-load, so a stage never reaches for the network (json and parquet
// are built into @duckdb/node-api; anything needing another extension fails loudly instead).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { DuckDBConnection, DuckDBInstance as Instance } from '@duckdb/node-api';
import { Config, err, ok, type Result } from '../lib/stage-api/index.js';

// The package is CommonJS: `import` would have node's cjs-module-lexer parse its ~100 modules for
// their export names first (~60 ms of every DuckDB stage's start); require() loads them as is.
const require = createRequire(import.meta.url);
const { DuckDBInstance } = require('@duckdb/node-api') as typeof import('@duckdb/node-api');

export interface DuckDbSettings {
  /** DuckDB size string, e.g. `2GB`; DUCKDB_MEMORY_LIMIT. */
  readonly memoryLimit: string;
  /** Worker threads; DUCKDB_THREADS. */
  readonly threads: number;
}

/** The settings, or one line naming the bad value and where to fix it. */
export type SettingsResult = Result<DuckDbSettings, string>;

/** Reads DUCKDB_MEMORY_LIMIT and DUCKDB_THREADS through the config layers (env > .env.local > .env.base). */
export function duckDbSettings(
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
): SettingsResult {
  const config = new Config(workspace, env);
  const memoryLimit = config.get('DUCKDB_MEMORY_LIMIT')?.value ?? '1200MB';
  const threadsText = config.get('DUCKDB_THREADS')?.value ?? '2';
  const threads = Number(threadsText);
  if (!/^\d+(\.\d+)?\s*[KMGT]i?B$/i.test(memoryLimit)) {
    return err(
      `DUCKDB_MEMORY_LIMIT=${memoryLimit} is not a size like 2GB or 512MiB; fix it in config/.env.local or the environment`,
    );
  }
  if (!Number.isInteger(threads) || threads < 1) {
    return err(
      `DUCKDB_THREADS=${threadsText} is not a positive whole number; fix it in config/.env.local or the environment`,
    );
  }
  return ok({ memoryLimit, threads });
}

/** For stage scripts: DuckDB with the workspace's settings, or the reason printed and exit 1. */
export async function openStageDb(workspace: string, stage: string): Promise<Db> {
  const result = duckDbSettings(workspace);
  if (!result.ok) {
    process.stderr.write(`stage ${stage}: ${result.error}\n`);
    process.exit(1);
  }
  return openDuckDb(result.value);
}

export interface Db {
  readonly connection: DuckDBConnection;
  /** DUCKDB_THREADS: how many connections can usefully run statements at once (see `connect`). */
  readonly threads: number;
  /** Runs one or more statements, discarding results. */
  run(sql: string): Promise<void>;
  /** Runs a query and returns its rows as JSON-safe objects (BIGINT arrives as string: cast in SQL). */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /**
   * Another connection to the same database, for statements that DuckDB cannot spread over its
   * threads on its own (a scan of a few rows runs on one thread, whatever it unnests into).
   * It sees the database's tables but not this connection's TEMP objects or variables; closing it
   * closes only the connection.
   */
  connect(): Promise<Db>;
  close(): void;
}

export async function openDuckDb(settings: DuckDbSettings): Promise<Db> {
  // Past memory_limit DuckDB spills sorts, hash tables and temp tables to temp_directory, which
  // for an in-memory database is `.tmp` in the working directory (the workspace): a folder of
  // our own under the OS temp directory instead, removed on close.
  const spill = mkdtempSync(join(tmpdir(), 'pipe-duckdb-'));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: settings.memoryLimit,
    threads: String(settings.threads),
    temp_directory: spill,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  return wrap(instance, settings.threads, () => {
    instance.closeSync();
    rmSync(spill, { recursive: true, force: true });
  });
}

async function wrap(instance: Instance, threads: number, closeMore: () => void): Promise<Db> {
  const connection = await instance.connect();
  return {
    connection,
    threads,
    async run(sql) {
      await connection.run(sql);
    },
    async rows<T>(sql: string) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJson() as T[];
    },
    connect: () => wrap(instance, threads, () => {}),
    close() {
      connection.closeSync();
      closeMore();
    },
  };
}

/** A SQL string literal: single quotes doubled. For paths and values we put into SQL text. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A SQL list literal of strings, for IN (...) and variables. Paths for readers: sqlPathList. */
export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** The characters that make DuckDB treat a path as a glob (FileSystem::HasGlob). */
const GLOB_CHARS = /[*?[]/g;

/**
 * False for a path DuckDB's readers cannot take literally: one with a glob character and a
 * backslash. DuckDB splits a globbed path at `\` as well as `/`, so no escape reaches such a name;
 * callers give DuckDB a copy under a plain name instead (stages/shared/raw-input.ts).
 */
export function readableByDuckDb(path: string): boolean {
  return !(path.includes('\\') && /[*?[]/.test(path));
}

/**
 * A file path as a SQL string that read_parquet, read_json and read_text take literally. They
 * expand `*`, `?` and `[...]` in any path as a glob, with no option to turn that off: an upload
 * named `1*_keystrokes.txt` read every `1..._keystrokes.txt` beside it. In DuckDB's glob a
 * character class of one character matches that character only, so each glob character is
 * written as `[*]`, `[?]`, `[[]`; the rows' `filename` is still the real path. Throws, naming
 * the path, for one readableByDuckDb refuses. Not for COPY ... TO, which never globs.
 */
export function sqlPath(path: string): string {
  if (!readableByDuckDb(path))
    throw new Error(
      `DuckDB cannot read ${JSON.stringify(path)} literally: it holds both a glob character (* ? [) and a backslash; move the workspace or temp folder to a path without them`,
    );
  return sqlString(path.replace(GLOB_CHARS, (c) => `[${c}]`));
}

/** A SQL list of paths, each read literally (sqlPath), for read_parquet([...]) and friends. */
export function sqlPathList(paths: readonly string[]): string {
  return `[${paths.map(sqlPath).join(', ')}]`;
}
