// The tables and small JSON files the report reads (docs/data-tables.md), checked before any work:
// a missing file, column or summary field is an error value naming the file and what is missing,
// so the report never draws charts from data it does not understand.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Result } from '../../lib/stage-api/index.js';
import type { Db } from '../duckdb.js';
import { readParts, tableParts } from '../shared/parts.js';

/** Workspace-relative paths, as docs/data-tables.md names them: tables are folders of parts. */
export const inputPaths = {
  manifest: 'data/raw/manifest.json',
  keystrokes: 'data/clean/keystrokes',
  rejects: 'data/clean/rejects',
  cleanSummary: 'data/clean/summary.json',
  keypairs: 'data/keypairs/keypairs',
  sequences: 'data/features/sequences',
  featuresSummary: 'data/features/summary.json',
  /** Optional (proposed in docs/data-tables.md): the typed text per session, for exact WPM. */
  sessions: 'data/clean/sessions',
} as const;

/** The columns the report's queries read, per table (a subset of each table's columns). */
const requiredColumns = {
  keystrokes: [
    'source',
    'platform',
    'user_id',
    'session_id',
    'press_ms',
    'release_ms',
    'key',
    'keycode',
  ],
  rejects: ['rule', 'source', 'source_file', 'source_line', 'detail'],
  keypairs: [
    'source',
    'platform',
    'user_id',
    'session_id',
    'keycode1',
    'keycode2',
    'hl_ms',
    'il_ms',
    'pl_ms',
    'rl_ms',
  ],
  sequences: ['source', 'user_id', 'session_id', 'is_padding'],
} as const;

export interface CleanSummary {
  readonly files_in: number;
  readonly events_in: number;
  readonly rows_in: number;
}
export interface FeaturesSummary {
  readonly M: number;
  readonly min_sessions_per_user: number;
  readonly users_kept: number;
  readonly users_dropped: number;
}

export interface Inputs {
  /** Each table as `read_parquet([...])` of its part files (the literal list, sorted). */
  readonly sql: Record<keyof typeof requiredColumns, string>;
  /** `read_parquet([...])` of data/clean/sessions/ when it exists, else null. */
  readonly sessionsSql: string | null;
  readonly uploads: number;
  readonly clean: CleanSummary;
  readonly features: FeaturesSummary;
}

export type InputsResult = Result<Inputs, string>;

function readJson(workspace: string, rel: string): Result<Record<string, unknown>, string> {
  const abs = join(workspace, rel);
  if (!existsSync(abs))
    return { ok: false, error: `${rel} is missing: build the stage that writes it first` };
  try {
    const value: unknown = JSON.parse(readFileSync(abs, 'utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return { ok: true, value: value as Record<string, unknown> };
    return { ok: false, error: `${rel}: expected a JSON object` };
  } catch (error) {
    return { ok: false, error: `${rel}: not valid JSON (${(error as Error).message})` };
  }
}

/** Picks numeric fields, or names the first that is absent or not a number. */
function numbers<K extends string>(
  rel: string,
  obj: Record<string, unknown>,
  keys: readonly K[],
): Result<Record<K, number>, string> {
  const out = {} as Record<K, number>;
  for (const key of keys) {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      return {
        ok: false,
        error: `${rel}: field "${key}" should be a number, found ${JSON.stringify(v)} (see docs/data-tables.md)`,
      };
    }
    out[key] = v;
  }
  return { ok: true, value: out };
}

/** The numeric fields `keys` of the JSON object in `rel`, or what is missing or wrong. */
function readNumbers<K extends string>(
  workspace: string,
  rel: string,
  keys: readonly K[],
): Result<Record<K, number>, string> {
  const json = readJson(workspace, rel);
  return json.ok ? numbers(rel, json.value, keys) : json;
}

/** `read_parquet([...])` of a table folder's part files, or why there is none. */
function partsRelation(workspace: string, rel: string): Result<string, string> {
  // Sequences parts may have added files (rows of users kept later): part of the table too.
  const listed = tableParts(workspace, rel, rel === inputPaths.sequences);
  if (!listed.ok) return listed;
  if (listed.parts.length === 0)
    return {
      ok: false,
      error: `${rel}/ holds no part files: build the stage that writes it again`,
    };
  return { ok: true, value: readParts(listed.parts) };
}

export async function readInputs(db: Db, workspace: string): Promise<InputsResult> {
  const sql = {} as Record<keyof typeof requiredColumns, string>;
  for (const table of Object.keys(requiredColumns) as (keyof typeof requiredColumns)[]) {
    const rel = inputPaths[table];
    const parts = partsRelation(workspace, rel);
    if (!parts.ok) return parts;
    sql[table] = parts.value;
    const described = await db.rows<{ column_name: string }>(
      `DESCRIBE SELECT * FROM ${sql[table]}`,
    );
    const have = new Set(described.map((c) => c.column_name));
    const missing = requiredColumns[table].filter((c) => !have.has(c));
    if (missing.length > 0) {
      return {
        ok: false,
        error: `${rel}/ lacks column(s) ${missing.join(', ')}; the report reads the columns docs/data-tables.md lists`,
      };
    }
  }
  let sessionsSql: string | null = null;
  const sessionsAbs = join(workspace, inputPaths.sessions);
  if (existsSync(sessionsAbs) || existsSync(`${sessionsAbs}.parquet`)) {
    const parts = partsRelation(workspace, inputPaths.sessions);
    if (!parts.ok) return parts;
    sessionsSql = parts.value;
    const described = await db.rows<{ column_name: string }>(
      `DESCRIBE SELECT * FROM ${sessionsSql}`,
    );
    const have = new Set(described.map((c) => c.column_name));
    const missing = ['source', 'user_id', 'session_id', 'typed_text'].filter((c) => !have.has(c));
    if (missing.length > 0)
      return {
        ok: false,
        error: `${inputPaths.sessions}/ lacks column(s) ${missing.join(', ')}; the report reads the columns docs/data-tables.md lists`,
      };
  }
  const manifest = readJson(workspace, inputPaths.manifest);
  if (!manifest.ok) return manifest;
  const files = manifest.value.files;
  if (!Array.isArray(files))
    return { ok: false, error: `${inputPaths.manifest}: field "files" should be an array` };
  const clean = readNumbers(workspace, inputPaths.cleanSummary, [
    'files_in',
    'events_in',
    'rows_in',
  ]);
  if (!clean.ok) return clean;
  const features = readNumbers(workspace, inputPaths.featuresSummary, [
    'M',
    'min_sessions_per_user',
    'users_kept',
    'users_dropped',
  ]);
  if (!features.ok) return features;
  return {
    ok: true,
    value: {
      sql,
      sessionsSql,
      uploads: files.length,
      clean: clean.value,
      features: features.value,
    },
  };
}
