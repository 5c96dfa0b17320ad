// Checks that pipe's stages and the pandas peer computed the same numbers on the same input: equal
// counts (keystrokes, sessions, key pairs, sequence rows, users, rejects per rule), and a full
// outer join of both key-pair tables and both TypeNet tensors, row by row, with the largest
// absolute difference per feature (must be <= TOLERANCE). DuckDB reads pipe's Parquet and pandas'
// CSV (pandas writes floats as shortest round-trip text, so the CSV holds the exact doubles).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDb, sqlString } from '../../stages/duckdb.js';
import { tableRelation } from './table-relation.js';

export const TOLERANCE = 1e-9;

export interface Comparison {
  readonly ok: boolean;
  /** What differs, in words; empty when ok. */
  readonly problems: string[];
  readonly counts: Record<string, { pipe: number; pandas: number }>;
  readonly keypairs: {
    unmatched: number;
    keycodeMismatches: number;
    maxAbsDiffMs: Record<string, number>;
  };
  readonly sequences: {
    unmatched: number;
    paddingMismatches: number;
    maxAbsDiff: Record<string, number>;
  };
  /** Latency statistics (ms) from pipe's key pairs; pandas' equal them within TOLERANCE when ok. */
  readonly latencies: Record<string, { sum: number; p10: number; p50: number; p90: number }>;
}

interface PandasResult {
  keystrokes: number;
  sessions: number;
  keypairs: number;
  sequence_rows: number;
  users_kept: number;
  rejects: Record<string, number>;
}

const LATENCIES = ['hl_ms', 'il_ms', 'pl_ms', 'rl_ms'] as const;
const FEATURES = ['keycode_norm', 'hl_s', 'il_s', 'pl_s', 'rl_s'] as const;

export async function compareOutputs(workspace: string, pandasOut: string): Promise<Comparison> {
  const db = await openDuckDb({ memoryLimit: '2GB', threads: 2 });
  const problems: string[] = [];
  try {
    const csv = (name: string, columns: string) =>
      `read_csv(${sqlString(join(pandasOut, name))}, header = true, columns = ${columns})`;
    await db.run(`CREATE VIEW pipe_kp AS SELECT * FROM ${tableRelation(workspace, 'data/keypairs/keypairs')};
      CREATE VIEW pipe_seq AS SELECT * FROM ${tableRelation(workspace, 'data/features/sequences')};
      CREATE VIEW pd_kp AS SELECT * FROM ${csv(
        'keypairs.csv',
        `{source: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', seq: 'INTEGER',
        keycode1: 'INTEGER', keycode2: 'INTEGER', hl_ms: 'DOUBLE', il_ms: 'DOUBLE', pl_ms: 'DOUBLE', rl_ms: 'DOUBLE'}`,
      )};
      CREATE VIEW pd_seq AS SELECT * FROM ${csv(
        'sequences.csv',
        `{user_id: 'VARCHAR', session_id: 'VARCHAR', position: 'INTEGER',
        is_padding: 'BOOLEAN', keycode_norm: 'DOUBLE', hl_s: 'DOUBLE', il_s: 'DOUBLE', pl_s: 'DOUBLE', rl_s: 'DOUBLE'}`,
      )};`);

    const clean = JSON.parse(readFileSync(join(workspace, 'data/clean/summary.json'), 'utf8')) as {
      keystrokes_out: number;
      sessions_out: number;
      rejected: Record<string, number>;
    };
    const feats = JSON.parse(
      readFileSync(join(workspace, 'data/features/summary.json'), 'utf8'),
    ) as { users_kept: number };
    const pd = JSON.parse(readFileSync(join(pandasOut, 'result.json'), 'utf8')) as PandasResult;
    const [rows] = await db.rows<Record<string, number>>(`SELECT
      (SELECT count(*) FROM pipe_kp)::BIGINT::DOUBLE AS pipe_kp, (SELECT count(*) FROM pipe_seq)::BIGINT::DOUBLE AS pipe_seq`);
    const counts: Comparison['counts'] = {
      keystrokes: { pipe: clean.keystrokes_out, pandas: pd.keystrokes },
      sessions: { pipe: clean.sessions_out, pandas: pd.sessions },
      keypairs: { pipe: rows!.pipe_kp!, pandas: pd.keypairs },
      sequence_rows: { pipe: rows!.pipe_seq!, pandas: pd.sequence_rows },
      users_kept: { pipe: feats.users_kept, pandas: pd.users_kept },
    };
    const rules = new Set([...Object.keys(clean.rejected ?? {}), ...Object.keys(pd.rejects)]);
    for (const rule of rules) {
      const pipeN = clean.rejected?.[rule] ?? 0;
      const pandasN = pd.rejects[rule] ?? 0;
      if (pipeN !== 0 || pandasN !== 0)
        counts[`rejected.${rule}`] = { pipe: pipeN, pandas: pandasN };
    }
    for (const [what, c] of Object.entries(counts))
      if (c.pipe !== c.pandas) problems.push(`${what}: pipe ${c.pipe}, pandas ${c.pandas}`);

    const [kp] = await db.rows<Record<string, number>>(`SELECT
      count(*) FILTER (a.seq IS NULL OR b.seq IS NULL)::DOUBLE AS unmatched,
      count(*) FILTER (a.keycode1 <> b.keycode1 OR a.keycode2 <> b.keycode2)::DOUBLE AS keycodes,
      ${LATENCIES.map((c) => `coalesce(max(abs(a.${c} - b.${c})), 0) AS ${c}`).join(', ')}
      FROM pipe_kp a FULL OUTER JOIN pd_kp b USING (source, user_id, session_id, seq)`);
    const [sq] = await db.rows<Record<string, number>>(`SELECT
      count(*) FILTER (a.position IS NULL OR b.position IS NULL)::DOUBLE AS unmatched,
      count(*) FILTER (a.is_padding <> b.is_padding)::DOUBLE AS padding,
      ${FEATURES.map((c) => `coalesce(max(abs(a.${c} - b.${c})), 0) AS ${c}`).join(', ')}
      FROM pipe_seq a FULL OUTER JOIN pd_seq b USING (user_id, session_id, position)`);
    const keypairs = {
      unmatched: kp!.unmatched!,
      keycodeMismatches: kp!.keycodes!,
      maxAbsDiffMs: Object.fromEntries(LATENCIES.map((c) => [c, kp![c]!])),
    };
    const sequences = {
      unmatched: sq!.unmatched!,
      paddingMismatches: sq!.padding!,
      maxAbsDiff: Object.fromEntries(FEATURES.map((c) => [c, sq![c]!])),
    };
    if (keypairs.unmatched > 0) problems.push(`${keypairs.unmatched} key pairs in only one output`);
    if (keypairs.keycodeMismatches > 0)
      problems.push(`${keypairs.keycodeMismatches} key pairs with other key codes`);
    if (sequences.unmatched > 0)
      problems.push(`${sequences.unmatched} sequence rows in only one output`);
    if (sequences.paddingMismatches > 0)
      problems.push(`${sequences.paddingMismatches} sequence rows padded in only one output`);
    for (const [c, d] of [
      ...Object.entries(keypairs.maxAbsDiffMs),
      ...Object.entries(sequences.maxAbsDiff),
    ]) {
      if (!(d <= TOLERANCE)) problems.push(`${c} differs by up to ${d}`);
    }
    const latencies: Comparison['latencies'] = {};
    for (const c of LATENCIES) {
      const stats = (view: string) =>
        db.rows<{ sum: number; p10: number; p50: number; p90: number }>(
          `SELECT sum(${c}) AS sum, quantile_disc(${c}, 0.1) AS p10, quantile_disc(${c}, 0.5) AS p50, quantile_disc(${c}, 0.9) AS p90 FROM ${view}`,
        );
      const [a] = await stats('pipe_kp');
      const [b] = await stats('pd_kp');
      latencies[c] = a!;
      for (const k of ['sum', 'p10', 'p50', 'p90'] as const) {
        // Sums of millions of values differ in the last bits with summation order: compare relatively.
        const scale = k === 'sum' ? Math.max(1, Math.abs(a![k])) : 1;
        if (!(Math.abs(a![k] - b![k]) <= TOLERANCE * scale))
          problems.push(`${c} ${k}: pipe ${a![k]}, pandas ${b![k]}`);
      }
    }
    return { ok: problems.length === 0, problems, counts, keypairs, sequences, latencies };
  } finally {
    db.close();
  }
}
