// Stage keypairs: data/clean/keystrokes.parquet -> data/keypairs/keypairs.parquet (keypairs.sql).
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stageContext } from '../lib/stage-api/index.js';
import { requireTables } from './checks.js';
import { openStageDb, sqlString } from './duckdb.js';
import { keystrokesSpec } from './lib/tables.js';

const ctx = stageContext();
const input = join(ctx.workspace, 'data/clean/keystrokes.parquet');
const out = ctx.out('data/keypairs');
const db = await openStageDb(ctx.workspace, ctx.stage);
const spec = keystrokesSpec(input);
await requireTables(db, ctx.stage, [spec]);
await db.run(`CREATE VIEW keystrokes AS SELECT * FROM ${spec.relation}`);
await db.run(readFileSync(new URL('keypairs.sql', import.meta.url), 'utf8'));
mkdirSync(out, { recursive: true });
const output = join(out, 'keypairs.parquet');
await db.run(`COPY keypairs TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd)`);
// Counted from the written file: recounting the view would run the window query a second time.
// A session's pairs have seq 0, 1, ... (checked input), so its first pair is its one pair with seq
// 0: counting those counts the sessions with pairs, where count(DISTINCT (source, user_id,
// session_id)) hashed three strings per pair (0.8 s of 10M pairs).
const [counts] = await db.rows<{ pairs: number; rollover: number; sessions: number }>(
  `SELECT count(*)::INTEGER AS pairs, count(*) FILTER (il_ms < 0)::INTEGER AS rollover,
          count(*) FILTER (seq = 0)::INTEGER AS sessions FROM read_parquet(${sqlString(output)})`,
);
db.close();
ctx.writeMetrics({
  records: {
    keypairs: counts?.pairs ?? 0,
    rollover_pairs: counts?.rollover ?? 0,
    sessions: counts?.sessions ?? 0,
  },
});
process.stdout.write(
  `keypairs: ${counts?.pairs} pairs in ${counts?.sessions} sessions, ${counts?.rollover} with rollover (negative IL)\n`,
);
