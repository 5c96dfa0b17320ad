// Stage keypairs: data/clean/keystrokes/<part>.parquet -> data/keypairs/keypairs/<part>.parquet
// (keypairs.sql), each part a pure function of the clean part of the same id. Incremental
// (docs/stage-contract.md): only the added and modified clean parts are paired again, and the pairs
// of deleted ones removed; the record counts add up each part's counts, kept in
// data/keypairs/part-counts.json so that an unchanged part is never read again.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapConcurrent, stageContext } from '../lib/stage-api/index.js';
import { checkTable } from './checks.js';
import { openStageDb, sqlPath, sqlString } from './duckdb.js';
import { keystrokesSpec } from './shared/tables.js';
import {
  type PartCounts,
  partFile,
  planParts,
  readPartCounts,
  writePartCounts,
} from './shared/part-plan.js';
import { tableParts, unlink } from './shared/parts.js';

interface Counts {
  readonly pairs: number;
  readonly rollover: number;
  readonly sessions: number;
}

const ctx = stageContext();
const db = await openStageDb(ctx.workspace, ctx.stage);
const input = tableParts(ctx.workspace, 'data/clean/keystrokes');
if (!input.ok) {
  process.stderr.write(`stage ${ctx.stage}: ${input.error}\n`);
  db.close();
  process.exit(1);
}
const out = ctx.out('data/keypairs');
const countsFile = join(out, 'part-counts.json');
const plan = planParts({
  incremental: ctx.incremental,
  dep: 'data/clean',
  inputTable: 'data/clean/keystrokes',
  inputs: input.parts,
  out,
  outTables: ['keypairs'],
  previous: () => readPartCounts<Counts>(countsFile),
});
const counts: PartCounts<Counts> = plan.counts;
for (const id of plan.drop) {
  unlink(partFile(out, 'keypairs', id));
  counts.delete(id);
}
mkdirSync(join(out, 'keypairs'), { recursive: true });
const keypairsSql = readFileSync(new URL('keypairs.sql', import.meta.url), 'utf8');
// One part per connection, as many at once as DuckDB has threads: the pairing window streams in
// file order on one thread, so a part alone would leave the other threads idle.
const failures = await mapConcurrent(plan.redo, db.threads, async (part) => {
  const conn = await db.connect();
  try {
    const spec = keystrokesSpec(part.path, `data/clean/keystrokes/${part.id}.parquet`);
    const checked = await checkTable(conn, ctx.stage, spec);
    if (!checked.ok) return checked.error;
    await conn.run(`CREATE OR REPLACE TEMP VIEW keystrokes AS SELECT * FROM ${spec.relation}`);
    await conn.run(keypairsSql);
    const output = partFile(out, 'keypairs', part.id);
    unlink(output);
    await conn.run(`COPY keypairs TO ${sqlString(output)} (FORMAT parquet, COMPRESSION zstd)`);
    // Counted from the written file: recounting the view would run the window query a second
    // time. A session's pairs have seq 0, 1, ... (checked input), so its first pair is its one
    // pair with seq 0: counting those counts the sessions with pairs, where count(DISTINCT
    // (source, user_id, session_id)) hashed three strings per pair (0.8 s of 10M pairs).
    const [row] = await conn.rows<Counts>(
      `SELECT count(*)::INTEGER AS pairs, count(*) FILTER (il_ms < 0)::INTEGER AS rollover,
              count(*) FILTER (seq = 0)::INTEGER AS sessions FROM read_parquet(${sqlPath(output)})`,
    );
    counts.set(part.id, row ?? { pairs: 0, rollover: 0, sessions: 0 });
    return null;
  } finally {
    conn.close();
  }
});
db.close();
const failure = failures.find((f) => f !== null);
if (failure !== undefined) {
  process.stderr.write(`${failure}\n`);
  process.exit(1);
}
writePartCounts(countsFile, counts);
const total = { pairs: 0, rollover: 0, sessions: 0 };
for (const c of counts.values()) {
  total.pairs += c.pairs;
  total.rollover += c.rollover;
  total.sessions += c.sessions;
}
ctx.writeMetrics({
  records: { keypairs: total.pairs, rollover_pairs: total.rollover, sessions: total.sessions },
});
process.stdout.write(
  `keypairs: ${total.pairs} pairs in ${total.sessions} sessions, ${total.rollover} with rollover (negative IL)` +
    `${plan.incremental ? ` (incremental: ${plan.redo.length} of ${input.parts.length} parts paired again, ${plan.drop.length} removed)` : ''}\n`,
);
