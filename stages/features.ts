// Stage features: data/keypairs/keypairs/<part>.parquet -> data/features/sequences/<part>.parquet,
// data/features/users.parquet and summary.json (features.sql, features.part.sql,
// features.added.sql; shapes in docs/data-tables.md). Bookkeeping beside them, so that an
// incremental run reads only the changed parts: session-counts/<part>.parquet (each part's
// sessions with their pair counts and first rows: the user filter counts a user's sessions over
// ALL parts from these, never from the pairs, and an added file finds a session's pairs by row)
// and part-counts.json (each sequences part's rows and padding rows, counted from the written
// files).
//
// A user who becomes kept (their min_sessions_per_user-th session arrived) has sessions in parts
// that did not change. Those parts are not rewritten for them: their sessions' sequences go to an
// ADDED file beside each such part, sequences/<part>+<n>.parquet, so one new upload writes a few
// small files instead of every part its user ever typed in. A part is rewritten whole (its added
// files removed) when its pairs change, when a user in it is dropped, or at MAX_ADDED added files.
// Invariant, kept by every run: a part's files hold exactly its sessions of the users kept now.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapConcurrent, stageContext } from '../lib/stage-api/index.js';
import { checkTable } from './checks.js';
import { type Db, openStageDb, sqlPath, sqlPathList, sqlString } from './duckdb.js';
import {
  type PartCounts,
  partFile,
  planParts,
  readPartCounts,
  writePartCounts,
} from './shared/part-plan.js';
import { type Part, replaceFile, tableParts, unlink } from './shared/parts.js';
import { keypairsSpec, sequencesOrderSpec } from './shared/tables.js';

interface SequenceCounts {
  readonly rows: number;
  readonly padding: number;
}

/** Added files a part may gather before the next one rewrites it whole instead. */
const MAX_ADDED = 8;

const ctx = stageContext();
const m = Number(ctx.param<number>('features.sequence_length'));
const minSessions = Number(ctx.param<number>('features.min_sessions_per_user'));
for (const [key, value] of [
  ['features.sequence_length', m],
  ['features.min_sessions_per_user', minSessions],
] as const) {
  if (!Number.isInteger(value) || value < 1) {
    process.stderr.write(
      `stage ${ctx.stage}: param ${key} is ${value}; it must be a whole number of at least 1 (params.yaml)\n`,
    );
    process.exit(1);
  }
}
const db = await openStageDb(ctx.workspace, ctx.stage);
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  db.close();
  process.exit(1);
}
const input = tableParts(ctx.workspace, 'data/keypairs/keypairs');
if (!input.ok) fail(`stage ${ctx.stage}: ${input.error}`);
const out = ctx.out('data/features');
const countsFile = join(out, 'part-counts.json');
const usersFile = join(out, 'users.parquet');
const plan = planParts({
  incremental: ctx.incremental,
  dep: 'data/keypairs',
  inputTable: 'data/keypairs/keypairs',
  inputs: input.parts,
  out,
  outTables: ['sequences', 'session-counts'],
  tablesWithAdded: ['sequences'],
  // users.parquet names the users kept last time: an incremental run compares against it.
  previous: () => (existsSync(usersFile) ? readPartCounts<SequenceCounts>(countsFile) : null),
});
const counts: PartCounts<SequenceCounts> = plan.counts;
/** The added files of each part, from the previous run (none after a full plan emptied `out`). */
const addedFiles = new Map<string, Part[]>();
if (plan.incremental) {
  const listed = tableParts(out, 'sequences', true);
  if (!listed.ok) fail(`stage ${ctx.stage}: ${listed.error}`);
  for (const p of listed.parts)
    if (p.added !== undefined)
      addedFiles.set(p.added.to, [...(addedFiles.get(p.added.to) ?? []), p]);
}
/** Removes a part's added files: it is about to be written whole, or is gone. */
function dropAdded(id: string): void {
  for (const p of addedFiles.get(id) ?? []) unlink(p.path);
  addedFiles.delete(id);
}
for (const id of plan.drop) {
  unlink(partFile(out, 'sequences', id));
  unlink(partFile(out, 'session-counts', id));
  dropAdded(id);
  counts.delete(id);
}
mkdirSync(join(out, 'sequences'), { recursive: true });
mkdirSync(join(out, 'session-counts'), { recursive: true });

// The users kept by the previous run, before anything here changes: whose status flips decides
// which unchanged parts get their sequences written again.
if (plan.incremental)
  await db.run(
    `CREATE TABLE previous_kept AS SELECT user_id FROM read_parquet(${sqlPath(usersFile)})`,
  );

/** Phase 1, per changed part: the input check, which also yields the part's sessions. */
const checked = await mapConcurrent(plan.redo, db.threads, async (part) => {
  const conn = await db.connect();
  try {
    const spec = keypairsSpec(
      part.path,
      `data/keypairs/keypairs/${part.id}.parquet`,
      'keypairs_runs',
    );
    const result = await checkTable(conn, ctx.stage, spec);
    if (!result.ok) return result.error;
    const sessions = partFile(out, 'session-counts', part.id);
    unlink(sessions);
    await conn.run(`COPY (SELECT source, user_id, session_id, row_count::INTEGER AS pairs, first_row
      FROM keypairs_runs ORDER BY first_row) TO ${sqlString(sessions)} (FORMAT parquet, COMPRESSION zstd)`);
    return null;
  } finally {
    conn.close();
  }
});
const badInput = checked.find((c) => c !== null);
if (badInput !== undefined) fail(badInput);

/**
 * Phase 2, global: every part's sessions (bookkeeping, not pairs) -> the users kept. A view, not a
 * table: the user counts read two of its columns, and only the few users whose status flips ask
 * which parts hold them (loading every session with its part cost ~50 ms of a one-upload run at
 * 10M web-app keystrokes).
 */
const sessionFiles = input.parts.map((p) => partFile(out, 'session-counts', p.id));
if (sessionFiles.length > 0)
  await db.run(`CREATE VIEW all_sessions AS
    SELECT source, user_id, session_id, pairs, regexp_extract(filename, '(part-[0-9]+)\\.parquet$', 1) AS part
    FROM read_parquet(${sqlPathList(sessionFiles)}, filename = true)`);
else
  await db.run(`CREATE TABLE all_sessions (source VARCHAR, user_id VARCHAR, session_id VARCHAR,
    pairs INTEGER, part VARCHAR)`);
await db.run(`SET VARIABLE min_sessions_per_user = ${minSessions}`);
await db.run(readFileSync(new URL('features.sql', import.meta.url), 'utf8'));

/**
 * Phase 3, per part whose sequences change: written whole when its pairs changed or a user of it
 * is dropped now (or it has MAX_ADDED added files); else, when a user of it is kept now, only
 * that user's sessions, in a new added file.
 */
const redoIds = new Set(plan.redo.map((p) => p.id));
const addIds = new Set<string>();
if (plan.incremental) {
  await db.run(`CREATE TABLE kept_now AS
    SELECT user_id FROM kept_users EXCEPT SELECT user_id FROM previous_kept`);
  const partsOf = (users: string) =>
    db.rows<{ part: string }>(
      `SELECT DISTINCT part FROM all_sessions SEMI JOIN (${users}) USING (user_id) ORDER BY part`,
    );
  const dropped = 'SELECT user_id FROM previous_kept EXCEPT SELECT user_id FROM kept_users';
  for (const { part } of await partsOf(dropped)) redoIds.add(part);
  for (const { part } of await partsOf('SELECT user_id FROM kept_now')) {
    if (redoIds.has(part)) continue;
    if ((addedFiles.get(part)?.length ?? 0) >= MAX_ADDED) redoIds.add(part);
    else addIds.add(part);
  }
}
const sequenceParts = input.parts.filter((p) => redoIds.has(p.id));
for (const p of sequenceParts) dropAdded(p.id);
const partSql = readFileSync(new URL('features.part.sql', import.meta.url), 'utf8');
const addedSql = readFileSync(new URL('features.added.sql', import.meta.url), 'utf8');
const jobs = [
  ...sequenceParts.map((part) => ({ part, users: 'kept_users', added: false })),
  ...input.parts
    .filter((p) => addIds.has(p.id))
    .map((part) => ({ part, users: 'kept_now', added: true })),
];
const written = await mapConcurrent(jobs, db.threads, async (job) => {
  const conn = await db.connect();
  try {
    return await writeSequences(conn, job.part, job.users, job.added);
  } finally {
    conn.close();
  }
});
const bug = written.find((w) => w !== null);
if (bug !== undefined && bug !== null) throw new Error(bug);

/**
 * Writes the sequences of `users` (a table) in `part`: its whole file, or (`added`) its next added
 * file, whose counts add to the part's.
 */
async function writeSequences(
  conn: Db,
  part: Part,
  users: string,
  added: boolean,
): Promise<string | null> {
  await conn.run(`SET VARIABLE sequence_length = ${m};
    CREATE OR REPLACE TEMP VIEW write_users AS SELECT user_id FROM ${users}`);
  // Each path keeps its plan only while its one join builds from the side it is written to build
  // from, and is probed with the pairs: the whole part's file order survives the join (the kept
  // users) only then, and an added file's join is fast only then. DuckDB's build_side_probe_side
  // optimizer may swap the sides when it misjudges sizes (it does on tiny files), so it is off.
  await conn.run(`SET disabled_optimizers = 'build_side_probe_side'`);
  if (added)
    await conn.run(`CREATE OR REPLACE TEMP VIEW keypairs_rows AS
        SELECT file_row_number, keycode1, hl_ms, il_ms, pl_ms, rl_ms
        FROM read_parquet(${sqlPath(part.path)}, file_row_number = true);
      CREATE OR REPLACE TEMP VIEW keypairs_runs AS
        SELECT * FROM read_parquet(${sqlPath(partFile(out, 'session-counts', part.id))});
      ${addedSql}`);
  else
    await conn.run(`CREATE OR REPLACE TEMP VIEW keypairs AS SELECT * FROM read_parquet(${sqlPath(part.path)});
      ${partSql}`);
  const n = Math.max(0, ...(addedFiles.get(part.id) ?? []).map((p) => p.added!.n)) + 1;
  const id = added ? `${part.id}+${n}` : part.id;
  const output = partFile(out, 'sequences', id);
  unlink(output);
  await conn.run(
    `COPY (SELECT * FROM ${added ? 'sequences_added' : 'sequences_in_file_order'})
      TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  // Counted from the written file: recounting the view would rebuild the padded tensor. A whole
  // part's order rests on streaming (no sort), so the input checks' own order check runs on what
  // was written: each session's positions one run counting from 0, sessions in (source, user_id,
  // session_id) order; a failure is a bug here, not bad input. An added file's order is its
  // query's ORDER BY: it is only counted (the check was ~10 ms of each of a +100's 16 added files;
  // test/features-added-files.test.ts checks their order).
  if (!added) {
    const table = `data/features/sequences/${id}.parquet`;
    const check = await checkTable(conn, ctx.stage, sequencesOrderSpec(output, table));
    if (!check.ok)
      return `features wrote ${table} out of (source, user_id, session_id, position) order: ${check.error}`;
  }
  const [written] = await conn.rows<{ rows: number; padding: number }>(
    `SELECT count(*)::INTEGER AS rows, count(*) FILTER (is_padding)::INTEGER AS padding
     FROM read_parquet(${sqlPath(output)})`,
  );
  const before = added ? counts.get(part.id) : undefined;
  if (added && before === undefined) return `features has no counts of ${part.id} to add to`;
  counts.set(part.id, {
    rows: (before?.rows ?? 0) + (written?.rows ?? 0),
    padding: (before?.padding ?? 0) + (written?.padding ?? 0),
  });
  return null;
}

const [facts] = await db.rows<{
  kept: number;
  dropped: number;
  sessions_dropped: number;
  sequences: number;
}>(`
  SELECT count(*) FILTER (sessions >= getvariable('min_sessions_per_user'))::INTEGER AS kept,
         count(*) FILTER (sessions < getvariable('min_sessions_per_user'))::INTEGER AS dropped,
         coalesce(sum(sessions) FILTER (sessions < getvariable('min_sessions_per_user')), 0)::INTEGER AS sessions_dropped,
         coalesce(sum(sessions) FILTER (sessions >= getvariable('min_sessions_per_user')), 0)::INTEGER AS sequences
  FROM user_sessions`);
unlink(usersFile);
await db.run(`COPY users TO ${sqlString(usersFile)} (FORMAT parquet, COMPRESSION zstd)`);
db.close();
let rows = 0;
let paddingRows = 0;
for (const c of counts.values()) {
  rows += c.rows;
  paddingRows += c.padding;
}
writePartCounts(countsFile, counts);
const summary = {
  M: m,
  min_sessions_per_user: minSessions,
  users_kept: facts?.kept ?? 0,
  users_dropped: facts?.dropped ?? 0,
  sessions_dropped: facts?.sessions_dropped ?? 0,
  sequences: facts?.sequences ?? 0,
  padding_share: rows > 0 ? paddingRows / rows : 0,
};
replaceFile(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
ctx.writeMetrics({
  records: {
    sequences: summary.sequences,
    users_kept: summary.users_kept,
    users_dropped: summary.users_dropped,
  },
});
process.stdout.write(
  `features: ${summary.sequences} sequences of ${m} from ${summary.users_kept} users (${summary.users_dropped} users below ${minSessions} sessions dropped)` +
    `${plan.incremental ? ` (incremental: ${plan.redo.length} of ${input.parts.length} parts checked, ${sequenceParts.length} written, ${addIds.size} added to, ${plan.drop.length} removed)` : ''}\n`,
);
