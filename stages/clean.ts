// Stage clean: data/raw -> data/clean/{keystrokes,rejects,sessions}/<part>.parquet, parts/<part>.json
// and summary.json (docs/data-tables.md). TypeScript screens whole files (manifest check, gzip, JSON,
// schema, duplicates; Latin-1 decoding); DuckDB does the row work in clean.webapp.sql,
// clean.aalto.sql and clean.sql, one part at a time (stages/shared/clean-part-build.ts). Parameters
// reach the SQL as DuckDB variables, never by editing SQL text.
// Incremental (ctx.incremental set; the out folder holds the last run's outputs as hard links, so
// every file is replaced by rename or removed, never written into): only the parts the changed
// uploads touch are built again (stages/shared/clean-plan.ts). A change to anything but data/raw (the
// upload schema) builds everything from an emptied out folder.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, stageContext, type IncrementalRun } from '../lib/stage-api/index.js';
import { openStageDb } from './duckdb.js';
import {
  buildPart,
  preparePart,
  type PartEnv,
  type PartJob,
  type PreparedPart,
} from './shared/clean-part-build.js';
import {
  PART_TABLES,
  readParts,
  removePart,
  replaceFile,
  writePart,
  type PartCounts,
  type PartFile,
  type PartRecord,
} from './shared/clean-parts.js';
import { byPath, planFull, planIncremental, type PartPlan } from './shared/clean-plan.js';
import { cleanSummary } from './shared/clean-summary.js';
import { checkRawFiles, readManifest } from './shared/raw-input.js';
import { uploadFormat } from './shared/uploads.js';
import { ScreeningPool } from './shared/webapp-screening.js';

/**
 * Raw bytes of uploads per part. A part is what a changed upload costs to rebuild and what one
 * DuckDB holds at once; each part also costs a fixed ~0.2 s (a DuckDB, its plans, three files) in a
 * full build and in the stages after clean. 128 MiB is ~16,000 web-app uploads or ~1,600 Aalto
 * participants: a 10M-keystroke set is 10-16 parts, the 136M Aalto set ~100, and one part
 * builds in a few seconds well under the memory cap. CLEAN_PART_BYTES (config/.env.*) changes
 * it: like DUCKDB_THREADS it changes how the rows are split into files, never which rows.
 */
const DEFAULT_PART_BYTES = 128 * 2 ** 20;

const ctx = stageContext();
const rawRoot = join(ctx.workspace, 'data/raw');
const out = ctx.out('data/clean');
const staging = mkdtempSync(join(tmpdir(), 'pipe-clean-'));
const pool = new ScreeningPool();
try {
  process.exitCode = await clean();
} finally {
  await pool.close();
  rmSync(staging, { recursive: true, force: true });
}

async function clean(): Promise<number> {
  const manifestRead = readManifest(rawRoot);
  if (!manifestRead.ok) return inputFailure(manifestRead.error);
  const manifest = manifestRead.value;
  const budget = partBytes();
  const previous = ctx.incremental === null ? null : incrementalBase(ctx.incremental);
  let plan: PartPlan;
  let filesIn: number;
  if (previous === null) {
    // A full build starts from nothing, even where the runner linked the last outputs in.
    rmSync(out, { recursive: true, force: true });
    const files = manifest.all();
    const present = checkRawFiles(rawRoot, files, (file) => files.indexOf(file));
    if (!present.ok) return inputFailure(present.error);
    filesIn = files.length;
    const uploads = files.filter((f) => uploadFormat(f.path) !== undefined).sort(byPath);
    plan = planFull(uploads, budget);
  } else {
    plan = planIncremental(previous.parts, manifest, previous.touched, budget, previous.added);
    const present = checkRawFiles(
      rawRoot,
      plan.build.flatMap((j) => j.members),
      (file) => manifest.indexOf(file.path),
    );
    if (!present.ok) return inputFailure(present.error);
    filesIn = manifest.count();
  }
  for (const dir of [...PART_TABLES, 'parts']) mkdirSync(join(out, dir), { recursive: true });
  for (const id of plan.remove) removePart(out, id);

  const env: PartEnv = {
    workspace: ctx.workspace,
    stage: ctx.stage,
    rawRoot,
    schemaPath: join(ctx.workspace, 'config/upload.schema.json'),
    out,
    maxHoldMs: Number(ctx.param<number>('clean.max_hold_ms')),
    minKeystrokes: Number(ctx.param<number>('clean.min_keystrokes_per_session')),
    limits: {
      maxUploadBytes: Number(ctx.param<number>('clean.max_upload_bytes')),
      maxDecompressedBytes: Number(ctx.param<number>('clean.max_decompressed_bytes')),
    },
    pool,
  };
  const parts = await buildParts(env, plan);
  const ids = [...parts.keys()].sort();
  const db = await openStageDb(ctx.workspace, ctx.stage);
  const summary = await cleanSummary(
    db,
    filesIn,
    ids.map((id) => parts.get(id)!),
    ids.map((id) => join(out, 'sessions', `${id}.parquet`)),
  );
  db.close();
  replaceFile(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  ctx.writeMetrics({
    records: {
      keystrokes: summary.keystrokes_out,
      rejects: summary.rejected_total,
      sessions: summary.sessions_out,
      users: summary.users_out,
    },
  });
  const mode = previous === null ? 'all' : `${plan.build.length} changed of`;
  process.stdout.write(
    `clean: ${summary.keystrokes_out} keystrokes in ${summary.sessions_out} sessions of ${summary.users_out} users; ${summary.rejected_total} rejects (built ${mode} ${ids.length} parts)\n`,
  );
  return 0;
}

/**
 * Builds the plan's parts one after another (the next one's uploads are screened while DuckDB
 * builds this one) and returns every part's counts, kept or built. A built part's keys come from
 * its contents; should one be another part's too (an upload named for one participant or session
 * holding another's), both are removed and their uploads built again as one part. A kept part's
 * keys are looked up in its record, and only for keys the built part did not hold before.
 */
async function buildParts(env: PartEnv, plan: PartPlan): Promise<Map<string, PartCounts>> {
  const kept = plan.keep;
  const built = new Map<string, PartRecord>();
  const owner = new Map<string, string>();
  const queue: PartJob[] = [...plan.build];
  let next: Promise<PreparedPart> | undefined;
  while (queue.length > 0) {
    const job = queue.shift()!;
    const prepared = await (next ?? preparePart(env, staging, job));
    next = queue.length > 0 ? preparePart(env, staging, queue[0]!) : undefined;
    // Keep a failed preparation from surfacing as an unhandled rejection before it is awaited.
    next?.catch(() => {});
    const part = await buildPart(env, prepared);
    const clashes = new Set<string>();
    for (const key of part.keys) {
      const other = owner.get(key) ?? (job.knownKeys?.has(key) ? undefined : kept.ownerOf(key));
      if (other !== undefined && other !== job.id) clashes.add(other);
    }
    if (clashes.size === 0) {
      built.set(job.id, part);
      for (const key of part.keys) owner.set(key, job.id);
      writePart(out, part);
      continue;
    }
    const merged = [job.id, ...clashes].sort();
    const members = [...job.members];
    // Every key of the merged parts is the new part's: no part left holds one.
    const knownKeys = new Set([...(job.knownKeys ?? []), ...part.keys]);
    for (const id of clashes) {
      const absorbed = built.get(id) ?? kept.get(id)!.record();
      members.push(...absorbed.members);
      for (const key of absorbed.keys) {
        owner.delete(key);
        knownKeys.add(key);
      }
      built.delete(id);
      kept.delete(id);
    }
    for (const id of merged) removePart(out, id);
    // At the end of the queue: `next`, if any, is the preparation of the queue's head.
    queue.push({ id: merged[0]!, members: members.sort(byPath), knownKeys });
  }
  const counts = new Map<string, PartCounts>();
  for (const part of kept.values()) counts.set(part.id, part.counts);
  for (const part of built.values()) counts.set(part.id, part.counts);
  return counts;
}

/** The last run's parts and the raw files the runner saw change, or null to build from scratch. */
function incrementalBase(
  run: IncrementalRun,
): { parts: PartFile[]; touched: Set<string>; added: Set<string> } | null {
  const touched = new Set<string>();
  const added = new Set<string>();
  for (const [dep, changes] of Object.entries(run.deps)) {
    const paths = [...changes.added, ...changes.modified, ...changes.deleted];
    if (dep !== 'data/raw') {
      // The upload schema decides which uploads are valid: every part depends on it.
      if (paths.length > 0) return null;
      continue;
    }
    // The manifest changes with every download run; the uploads it lists are compared one by one.
    for (const path of paths)
      if (path !== 'data/raw/manifest.json') touched.add(path.slice('data/raw/'.length));
    for (const path of changes.added) added.add(path.slice('data/raw/'.length));
  }
  const parts = readParts(out);
  return parts === null ? null : { parts, touched, added };
}

function partBytes(): number {
  const value = new Config(ctx.workspace, process.env).get('CLEAN_PART_BYTES')?.value;
  if (value === undefined) return DEFAULT_PART_BYTES;
  const bytes = Number(value);
  if (!Number.isInteger(bytes) || bytes < 1) {
    process.stderr.write(
      `stage ${ctx.stage}: CLEAN_PART_BYTES=${value} is not a positive whole number of bytes; fix it in config/.env.local or the environment\n`,
    );
    process.exit(1);
  }
  return bytes;
}

function inputFailure(error: { rule: string; detail: string }): number {
  process.stderr.write(
    `stage ${ctx.stage}: input data/raw/manifest.json fails check "${error.rule}": ${error.detail}\n`,
  );
  return 1;
}
