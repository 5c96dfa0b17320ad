// Stage features: data/keypairs/keypairs.parquet -> data/features/{sequences,users}.parquet +
// summary.json (features.sql; shapes in docs/data-tables.md).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageContext } from '../lib/stage-api/index.js';
import { checkTable, requireTables } from './checks.js';
import { openStageDb, sqlString } from './duckdb.js';
import { keypairsSpec, sequencesOrderSpec } from './lib/tables.js';

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
const input = join(ctx.workspace, 'data/keypairs/keypairs.parquet');
const out = ctx.out('data/features');
const db = await openStageDb(ctx.workspace, ctx.stage);
// The check keeps the sessions it counted as keypairs_runs, which features.sql reads.
const spec = keypairsSpec(input, 'keypairs_runs');
await requireTables(db, ctx.stage, [spec]);
await db.run(`CREATE VIEW keypairs AS SELECT * FROM ${spec.relation}`);
await db.run(
  `SET VARIABLE sequence_length = ${m}; SET VARIABLE min_sessions_per_user = ${minSessions};`,
);
await db.run(readFileSync(new URL('features.sql', import.meta.url), 'utf8'));
// Same rows either way (features.sql); streaming when the pairs are already in the wanted order.
// That path keeps the file's order through its one join (the kept users) only while the join
// probes with the pairs; DuckDB's build_side_probe_side optimizer may swap the sides when it
// misjudges sizes (it does on tiny files), so it is off here. The order is verified below anyway.
const [order] = await db.rows<{ yes: boolean }>('SELECT yes FROM keypairs_in_user_order');
const streaming = order?.yes === true;
if (streaming) await db.run(`SET disabled_optimizers = 'build_side_probe_side'`);
await db.run(
  `CREATE TEMP VIEW sequences AS SELECT * FROM ${streaming ? 'sequences_in_file_order' : 'sequences_sorted'}`,
);
mkdirSync(out, { recursive: true });
const sequencesFile = sqlString(join(out, 'sequences.parquet'));
await db.run(`COPY sequences TO ${sequencesFile} (FORMAT parquet, COMPRESSION zstd)`);
await db.run(
  `COPY users TO ${sqlString(join(out, 'users.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
);
// Counted from the written file: recounting the view would rebuild the padded tensor. The order
// check is the input checks' own, on what we wrote: each session's positions one run counting
// from 0, sessions in (user_id, session_id) order. A failure is a bug here, not bad input.
const written = await checkTable(db, ctx.stage, sequencesOrderSpec(join(out, 'sequences.parquet')));
if (!written.ok)
  throw new Error(
    `features wrote sequences.parquet out of (user_id, session_id, position) order: ${written.error}`,
  );
const [facts] = await db.rows<{
  kept: number;
  dropped: number;
  sessions_dropped: number;
  sequences: number;
  padding: number;
}>(`
  SELECT (SELECT count(*) FROM users)::INTEGER AS kept,
         (SELECT count(*) FROM user_sessions WHERE sessions < getvariable('min_sessions_per_user'))::INTEGER AS dropped,
         (SELECT coalesce(sum(sessions), 0) FROM user_sessions WHERE sessions < getvariable('min_sessions_per_user'))::INTEGER AS sessions_dropped,
         (SELECT count(*) FROM kept_sessions)::INTEGER AS sequences,
         (SELECT count(*) FILTER (is_padding) FROM read_parquet(${sequencesFile}))::INTEGER AS padding`);
db.close();
const summary = {
  M: m,
  min_sessions_per_user: minSessions,
  users_kept: facts?.kept ?? 0,
  users_dropped: facts?.dropped ?? 0,
  sessions_dropped: facts?.sessions_dropped ?? 0,
  sequences: facts?.sequences ?? 0,
  padding_share: facts && written.value > 0 ? facts.padding / written.value : 0,
};
writeFileSync(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
ctx.writeMetrics({
  records: {
    sequences: summary.sequences,
    users_kept: summary.users_kept,
    users_dropped: summary.users_dropped,
  },
});
process.stdout.write(
  `features: ${summary.sequences} sequences of ${m} from ${summary.users_kept} users (${summary.users_dropped} users below ${minSessions} sessions dropped)\n`,
);
