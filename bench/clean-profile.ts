// Where does stage clean spend its time and memory? Replays stages/clean.ts on a built benchmark
// workspace (its data/raw), statement by statement: the same loaders (stages/lib/clean-load.ts),
// the same SQL files split at `;` line ends, the same DuckDB settings, and times each statement
// with this process's RSS after it (DuckDB runs in-process). Evidence for the benchmark report.
//
//   node --import tsx bench/clean-profile.ts bench/work/ws-aalto-1000000 [--sql-dir DIR]
//
// --sql-dir reads the clean*.sql files from DIR instead of stages/ (to measure a proposed patch);
// --memory-cap-mib N caps DuckDB's buffer pool at N MiB instead of clean's own cap.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { duckDbSettings, openDuckDb, sqlString } from '../stages/duckdb.js';
import { loadAalto, loadFileRejects, loadWebapp } from '../stages/lib/clean-load.js';
import { CLEAN_MEMORY_CAP, limitCleanMemory } from '../stages/lib/clean-memory.js';
import { readRawInput } from '../stages/lib/raw-input.js';
import { screenWebappUploads, type StagedScreening } from '../stages/lib/webapp-screening.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'sql-dir': { type: 'string' }, 'memory-cap-mib': { type: 'string' } },
});
const ws = resolve(positionals[0] ?? 'bench/work/ws-aalto-1000000');
const sqlDir = resolve(values['sql-dir'] ?? join(repo, 'stages'));
const params = parseYaml(readFileSync(join(ws, 'params.yaml'), 'utf8')) as {
  clean: { max_hold_ms: number; min_keystrokes_per_session: number };
};
const staging = mkdtempSync(join(tmpdir(), 'clean-profile-'));
const rows: string[] = ['| step | seconds | RSS after (MiB) |', '|---|---:|---:|'];
const mib = () => Math.round(process.memoryUsage().rss / 2 ** 20);
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, mib())), 50);
async function step(name: string, work: () => unknown): Promise<void> {
  const t = performance.now();
  await work();
  rows.push(`| ${name} | ${((performance.now() - t) / 1000).toFixed(2)} | ${mib()} |`);
}

try {
  const started = performance.now();
  const raw = readRawInput(join(ws, 'data/raw'), staging);
  if (!raw.ok) throw new Error(raw.error.detail);
  const { webapp, aalto } = raw.value;
  let screening: StagedScreening | undefined;
  await step(
    `screen ${webapp.length} web-app files (TS worker threads: read, JSON.parse, ajv, staged as NDJSON)`,
    async () => {
      screening = await screenWebappUploads(
        join(ws, 'data/raw'),
        webapp,
        join(ws, 'config/upload.schema.json'),
        staging,
      );
    },
  );
  const settings = duckDbSettings(ws);
  if (!settings.ok) throw new Error(settings.error);
  const db = await openDuckDb(settings.value);
  const cap =
    values['memory-cap-mib'] === undefined
      ? CLEAN_MEMORY_CAP
      : Number(values['memory-cap-mib']) * 2 ** 20;
  await limitCleanMemory(db, staging, cap);
  await db.run(
    `SET VARIABLE max_hold_ms = ${params.clean.max_hold_ms}; SET VARIABLE min_keystrokes_per_session = ${params.clean.min_keystrokes_per_session}`,
  );
  await step('loadFileRejects', () => loadFileRejects(db, screening!.rejects));
  await step('loadWebapp (read_json of the staged fields; the documents stay a view)', () =>
    loadWebapp(db, screening!.staged, screening!.superseded),
  );
  await step('loadAalto (read_text + clean.aalto-batch.sql per batch of files)', () =>
    loadAalto(db, aalto),
  );
  const runFile = async (file: string) => {
    const text = readFileSync(join(sqlDir, file), 'utf8');
    for (const statement of text
      .split(/;\s*\n/)
      .map((s) => s.trim())
      .filter((s) => s.replace(/--.*$/gm, '').trim() !== '')) {
      const name =
        /CREATE OR REPLACE TEMP (?:TABLE|VIEW) (\w+)/.exec(statement)?.[1] ??
        statement.replace(/--.*$/gm, '').trim().slice(0, 40);
      await step(`${file}: ${name}`, () => db.run(statement));
    }
  };
  for (const file of ['clean.webapp.sql', 'clean.aalto.sql', 'clean.sql']) await runFile(file);
  // As stages/clean.ts: the views stream into their files, then stand for the written files.
  for (const table of ['keystrokes', 'rejects']) {
    const file = sqlString(join(staging, `${table}.parquet`));
    await step(`COPY ${table} TO parquet`, () =>
      db.run(`COPY ${table} TO ${file} (FORMAT parquet, COMPRESSION zstd)`),
    );
    await db.run(`CREATE OR REPLACE TEMP VIEW ${table} AS SELECT * FROM read_parquet(${file})`);
  }
  await runFile('clean.sessions.sql');
  await step('COPY sessions TO parquet', () =>
    db.run(
      `COPY sessions TO ${sqlString(join(staging, 'sessions.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
    ),
  );
  db.close();
  clearInterval(sampler);
  process.stdout.write(
    `# stage clean, step by step: ${ws}\n\nSQL from ${sqlDir}; DuckDB ${JSON.stringify(settings.value)}, buffer pool capped at ${cap / 2 ** 20} MiB (stages/lib/clean-memory.ts); ` +
      `total ${((performance.now() - started) / 1000).toFixed(1)} s, peak RSS (sampled) ${Math.max(peak, mib())} MiB.\n\n${rows.join('\n')}\n`,
  );
} finally {
  clearInterval(sampler);
  rmSync(staging, { recursive: true, force: true });
}
