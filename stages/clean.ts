// Stage clean: data/raw -> data/clean/{keystrokes,rejects,sessions}.parquet + summary.json
// (docs/data-tables.md). TypeScript screens whole files (manifest check, gzip, JSON, schema,
// duplicates; Latin-1 decoding); DuckDB does the row work in clean.webapp.sql, clean.aalto.sql
// and clean.sql. Parameters reach the SQL as DuckDB variables, never by editing SQL text.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageContext } from '../lib/stage-api/index.js';
import { openStageDb, sqlString, type Db } from './duckdb.js';
import { readRawInput } from './lib/raw-input.js';
import { screenWebappUploads } from './lib/webapp-screening.js';
import { loadAalto, loadFileRejects, loadWebapp } from './lib/clean-load.js';
import { cleanSummary } from './lib/clean-summary.js';
import { limitCleanMemory } from './lib/clean-memory.js';

const ctx = stageContext();
const rawRoot = join(ctx.workspace, 'data/raw');
const out = ctx.out('data/clean');
const staging = mkdtempSync(join(tmpdir(), 'pipe-clean-'));
try {
  process.exitCode = await clean();
} finally {
  rmSync(staging, { recursive: true, force: true });
}

async function clean(): Promise<number> {
  const raw = readRawInput(rawRoot, staging);
  if (!raw.ok) {
    process.stderr.write(
      `stage ${ctx.stage}: input data/raw/manifest.json fails check "${raw.error.rule}": ${raw.error.detail}\n`,
    );
    return 1;
  }
  const { webapp, aalto, transcoded, manifest } = raw.value;
  const screening = await screenWebappUploads(
    rawRoot,
    webapp,
    join(ctx.workspace, 'config/upload.schema.json'),
    staging,
  );

  const db = await openStageDb(ctx.workspace, ctx.stage);
  await limitCleanMemory(db, staging);
  await db.run(`SET VARIABLE max_hold_ms = ${Number(ctx.param<number>('clean.max_hold_ms'))}`);
  await db.run(
    `SET VARIABLE min_keystrokes_per_session = ${Number(ctx.param<number>('clean.min_keystrokes_per_session'))}`,
  );
  await loadFileRejects(db, screening.rejects);
  await loadWebapp(db, screening.staged, screening.superseded);
  await loadAalto(db, aalto);
  for (const part of ['clean.webapp.sql', 'clean.aalto.sql', 'clean.sql'])
    await runSqlFile(db, part);
  mkdirSync(out, { recursive: true });
  // keystrokes and rejects are views over the whole computation: each streams into its file once,
  // and from then on the names stand for the written files (sessions and the summary read them).
  for (const table of ['keystrokes', 'rejects']) {
    const file = sqlString(join(out, `${table}.parquet`));
    await db.run(`COPY ${table} TO ${file} (FORMAT parquet, COMPRESSION zstd)`);
    await db.run(`CREATE OR REPLACE TEMP VIEW ${table} AS SELECT * FROM read_parquet(${file})`);
  }
  await runSqlFile(db, 'clean.sessions.sql');
  await db.run(
    `COPY sessions TO ${sqlString(join(out, 'sessions.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const summary = await cleanSummary(db, {
    filesIn: manifest.files.length,
    webappFiles: webapp.length,
    webappEvents: screening.events,
    aaltoFiles: aalto.size,
    unknownFields: screening.unknownFields,
    transcoded,
  });
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  db.close();
  ctx.writeMetrics({
    records: {
      keystrokes: summary.keystrokes_out,
      rejects: summary.rejected_total,
      sessions: summary.sessions_out,
      users: summary.users_out,
    },
  });
  process.stdout.write(
    `clean: ${summary.keystrokes_out} keystrokes in ${summary.sessions_out} sessions of ${summary.users_out} users; ${summary.rejected_total} rejects\n`,
  );
  return 0;
}

async function runSqlFile(db: Db, name: string): Promise<void> {
  await db.run(readFileSync(new URL(name, import.meta.url), 'utf8'));
}
