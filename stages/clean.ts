// Stage clean: data/raw -> data/clean/{keystrokes,rejects,sessions}.parquet + summary.json
// (docs/data-tables.md). TypeScript screens whole files (manifest check, gzip, JSON, schema,
// duplicates; Latin-1 decoding); DuckDB does the row work in clean.webapp.sql, clean.aalto.sql
// and clean.sql. Parameters reach the SQL as DuckDB variables, never by editing SQL text.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageContext } from '../lib/stage-context.js';
import { openStageDb, sqlString } from './duckdb.js';
import { readRawInput } from './lib/raw-input.js';
import { screenWebappFiles } from './lib/webapp-files.js';
import { loadAalto, loadFileRejects, loadWebapp, WebappStaging } from './lib/clean-load.js';
import { cleanSummary } from './lib/clean-summary.js';

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
    process.stderr.write(`stage ${ctx.stage}: input data/raw/manifest.json fails check "${raw.rule}": ${raw.detail}\n`);
    return 1;
  }
  const { webapp, aalto, transcoded, manifest } = raw.input;
  const staged = new WebappStaging(join(staging, 'webapp.ndjson'));
  const screening = screenWebappFiles(rawRoot, webapp, join(ctx.workspace, 'config/upload.schema.json'), (file, json) => staged.add(file, json));

  const db = await openStageDb(ctx.workspace, ctx.stage);
  await db.run(`SET VARIABLE max_hold_ms = ${Number(ctx.param<number>('clean.max_hold_ms'))}`);
  await db.run(`SET VARIABLE min_keystrokes_per_session = ${Number(ctx.param<number>('clean.min_keystrokes_per_session'))}`);
  await loadFileRejects(db, screening.rejects);
  await loadWebapp(db, staged);
  await loadAalto(db, aalto);
  for (const part of ['clean.webapp.sql', 'clean.aalto.sql', 'clean.sql']) {
    await db.run(readFileSync(new URL(part, import.meta.url), 'utf8'));
  }
  mkdirSync(out, { recursive: true });
  await db.run(`COPY keystrokes TO ${sqlString(join(out, 'keystrokes.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
  await db.run(`COPY rejects TO ${sqlString(join(out, 'rejects.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
  await db.run(`COPY sessions TO ${sqlString(join(out, 'sessions.parquet'))} (FORMAT parquet, COMPRESSION zstd)`);
  const summary = await cleanSummary(db, {
    filesIn: manifest.files.length,
    webappFiles: webapp.length,
    aaltoFiles: aalto.size,
    unknownFields: screening.unknownFields,
    transcoded,
  });
  writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  db.close();
  ctx.writeMetrics({ records: { keystrokes: summary.keystrokes_out, rejects: summary.rejected_total, sessions: summary.sessions_out, users: summary.users_out } });
  process.stdout.write(`clean: ${summary.keystrokes_out} keystrokes in ${summary.sessions_out} sessions of ${summary.users_out} users; ${summary.rejected_total} rejects\n`);
  return 0;
}
