// data/clean/summary.json: rows in, out and rejected per rule, overall and per source
// (docs/data-tables.md). Counts come from the tables clean.sql built, so they add up by construction
// only if the SQL is right; the tests check the sums independently.
import type { Db } from '../duckdb.js';

export interface CleanFacts {
  readonly filesIn: number;
  readonly webappFiles: number;
  /** Events in the accepted web-app files (counted while screening them). */
  readonly webappEvents: number;
  readonly aaltoFiles: number;
  readonly unknownFields: Record<string, number>;
  readonly transcoded: readonly string[];
}

type Counts = { files_in: number; keystrokes_out: number; sessions_out: number; users_out: number };

async function one(db: Db, sql: string): Promise<number> {
  const rows = await db.rows<{ n: number }>(sql);
  return Number(rows[0]?.n ?? 0);
}

async function outCounts(db: Db, where: string): Promise<Omit<Counts, 'files_in'>> {
  const [row] = await db.rows<{ k: number; s: number; u: number }>(`SELECT count(*)::INTEGER AS k,
    count(DISTINCT (user_id, session_id))::INTEGER AS s, count(DISTINCT user_id)::INTEGER AS u FROM keystrokes WHERE ${where}`);
  return { keystrokes_out: row?.k ?? 0, sessions_out: row?.s ?? 0, users_out: row?.u ?? 0 };
}

async function rejectedBy(db: Db, where: string): Promise<Record<string, number>> {
  const rows = await db.rows<{ rule: string; n: number }>(
    `SELECT rule, count(*)::INTEGER AS n FROM rejects WHERE ${where} GROUP BY rule ORDER BY rule`,
  );
  return Object.fromEntries(rows.map((r) => [r.rule, r.n]));
}

export async function cleanSummary(db: Db, facts: CleanFacts) {
  const eventsIn = facts.webappEvents;
  const rowsIn = await one(db, 'SELECT count(*)::INTEGER AS n FROM aalto_parsed');
  const all = await outCounts(db, 'true');
  const rejected = await rejectedBy(db, 'true');
  return {
    files_in: facts.filesIn,
    events_in: eventsIn,
    rows_in: rowsIn,
    ...all,
    rejected,
    rejected_total: Object.values(rejected).reduce((a, b) => a + b, 0),
    by_source: {
      webapp: {
        files_in: facts.webappFiles,
        events_in: eventsIn,
        ...(await outCounts(db, `source = 'webapp'`)),
        rejected: await rejectedBy(db, `source = 'webapp'`),
        unknown_fields: facts.unknownFields,
      },
      aalto: {
        files_in: facts.aaltoFiles,
        rows_in: rowsIn,
        ...(await outCounts(db, `source = 'aalto'`)),
        rejected: await rejectedBy(db, `source = 'aalto'`),
        files_decoded_as_latin1: facts.transcoded,
      },
    },
  };
}
