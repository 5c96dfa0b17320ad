// Builds one part of data/clean: its uploads through the same screening and SQL a build over all
// uploads uses (clean.webapp.sql, clean.aalto.sql, clean.sql, clean.sessions.sql), in a DuckDB of
// its own that is closed before the next part, so memory is bounded by a part, not the data set.
// Preparing a part (reading and screening its uploads, on the screening threads) is separate from
// building it (DuckDB), so clean can prepare the next part while DuckDB builds this one.
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStageDb, sqlPath, sqlString, type Db } from '../duckdb.js';
import { loadAalto, loadFileRejects, loadWebapp } from './clean-load.js';
import { limitCleanMemory } from './clean-memory.js';
import { PART_TABLES, type PartCounts, type PartRecord } from './clean-parts.js';
import type { UploadLimits } from './file-rejects.js';
import { readableAalto, type ReadableAalto } from './raw-input.js';
import { uploadFormat, type ManifestFile } from './uploads.js';
import {
  screenWebappUploads,
  type ScreeningPool,
  type StagedScreening,
} from './webapp-screening.js';

export interface PartJob {
  readonly id: string;
  /** Sorted by path. */
  readonly members: readonly ManifestFile[];
  /**
   * Keys no part kept as it is holds (the part's own keys before a rebuild, or a new part's name
   * keys the plan found in no kept part): not looked for.
   */
  readonly knownKeys?: ReadonlySet<string>;
}

export interface PreparedPart extends ReadableAalto {
  readonly job: PartJob;
  /** This part's staging folder (screened documents, Latin-1 copies, DuckDB's spill). */
  readonly dir: string;
  readonly webapp: readonly string[];
  readonly screening: StagedScreening;
}

export interface PartEnv {
  readonly workspace: string;
  readonly stage: string;
  readonly rawRoot: string;
  readonly schemaPath: string;
  readonly out: string;
  readonly maxHoldMs: number;
  readonly minKeystrokes: number;
  readonly limits: UploadLimits;
  readonly pool: ScreeningPool;
}

let prepared = 0;

export async function preparePart(
  env: PartEnv,
  staging: string,
  job: PartJob,
): Promise<PreparedPart> {
  // A merged part may be prepared again under the same id: a folder per preparation.
  const dir = join(staging, `${job.id}-${prepared++}`);
  mkdirSync(dir, { recursive: true });
  const webapp = job.members.filter((m) => uploadFormat(m.path) === 'webapp').map((m) => m.path);
  const aaltoPaths = job.members.filter((m) => uploadFormat(m.path) === 'aalto').map((m) => m.path);
  const readable = readableAalto(env.rawRoot, aaltoPaths, dir, env.limits.maxUploadBytes);
  const screening = await screenWebappUploads(
    env.rawRoot,
    webapp,
    env.schemaPath,
    env.limits,
    dir,
    undefined,
    env.pool,
  );
  return { job, dir, webapp, screening, ...readable };
}

/** Writes the part's three tables into env.out and returns its record (not yet written). */
export async function buildPart(env: PartEnv, part: PreparedPart): Promise<PartRecord> {
  const db = await openStageDb(env.workspace, env.stage);
  try {
    await limitCleanMemory(db, part.dir);
    await db.run(`SET VARIABLE max_hold_ms = ${env.maxHoldMs}`);
    await db.run(`SET VARIABLE min_keystrokes_per_session = ${env.minKeystrokes}`);
    await loadFileRejects(db, [...part.screening.rejects, ...part.aaltoRejects]);
    await loadWebapp(db, part.screening.staged, part.screening.superseded, env.limits);
    await loadAalto(db, part.aalto);
    for (const sql of [WEBAPP_SQL, AALTO_SQL, CLEAN_SQL]) await runSqlFile(db, sql);
    const written = (table: string) => join(env.out, table, `${part.job.id}.parquet.tmp`);
    // keystrokes and rejects are views over the whole computation: each streams into its file
    // once, and from then on the names stand for the written files (sessions and counts read them).
    for (const table of ['keystrokes', 'rejects']) {
      const file = written(table);
      await db.run(`COPY ${table} TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
      await db.run(
        `CREATE OR REPLACE TEMP VIEW ${table} AS SELECT * FROM read_parquet(${sqlPath(file)})`,
      );
    }
    await runSqlFile(db, SESSIONS_SQL);
    await db.run(
      `COPY sessions TO ${sqlString(written('sessions'))} (FORMAT parquet, COMPRESSION zstd)`,
    );
    const counts = await partCounts(db, part);
    const keys = await partKeys(db);
    // Renamed over the previous part of this id: never written into (hard links, see clean.ts).
    for (const table of PART_TABLES)
      renameSync(written(table), join(env.out, table, `${part.job.id}.parquet`));
    return { id: part.job.id, members: part.job.members, keys, counts };
  } finally {
    db.close();
    rmSync(part.dir, { recursive: true, force: true });
  }
}

async function partCounts(db: Db, part: PreparedPart): Promise<PartCounts> {
  const keystrokes = { webapp: 0, aalto: 0 };
  for (const row of await db.rows<{ source: 'webapp' | 'aalto'; n: number }>(
    `SELECT source, count(*)::INTEGER AS n FROM keystrokes GROUP BY source`,
  ))
    keystrokes[row.source] = row.n;
  const rejected: { webapp: Record<string, number>; aalto: Record<string, number> } = {
    webapp: {},
    aalto: {},
  };
  for (const row of await db.rows<{ source: 'webapp' | 'aalto'; rule: string; n: number }>(
    `SELECT source, rule, count(*)::INTEGER AS n FROM rejects GROUP BY ALL ORDER BY source, rule`,
  ))
    rejected[row.source][row.rule] = row.n;
  const [rows] = await db.rows<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM aalto_parsed`);
  return {
    webapp_files: part.webapp.length,
    aalto_files: part.aalto.size + part.aaltoRejects.length,
    events_in: part.screening.events,
    rows_in: rows?.n ?? 0,
    keystrokes,
    rejected,
    unknown_fields: { ...part.screening.unknownFields },
    files_decoded_as_latin1: part.transcoded,
  };
}

/** The keys this part's rows depend on (stages/shared/clean-parts.ts), from the contents. */
async function partKeys(db: Db): Promise<string[]> {
  const rows = await db.rows<{ key: string }>(`
    SELECT DISTINCT 'w:' || session_id AS key FROM webapp_files
    UNION SELECT DISTINCT 'a:' || user_id FROM aalto_parsed WHERE rule IS NULL
    ORDER BY key`);
  return rows.map((r) => r.key);
}

const WEBAPP_SQL = new URL('../clean.webapp.sql', import.meta.url);
const AALTO_SQL = new URL('../clean.aalto.sql', import.meta.url);
const CLEAN_SQL = new URL('../clean.sql', import.meta.url);
const SESSIONS_SQL = new URL('../clean.sessions.sql', import.meta.url);

async function runSqlFile(db: Db, file: URL): Promise<void> {
  await db.run(readFileSync(file, 'utf8'));
}
