// The order keypairs and features stream their input in: rows of one key (a session) form one run
// of consecutive rows, a counter counts 0, 1, 2, ... along each run, the runs come in ascending key
// order, and optionally one column never decreases along a run (press time).
//
// Two exact forms of the same rules:
// - per row (`orderRules`): windows over the previous row in file order. They define the rules and
//   name a failing row, but a streaming window runs on one thread, and comparing three strings per
//   row against the row before took 3 of the 4.8 s the keystrokes checks took at 10M rows.
// - whole table (`orderHolds`): one parallel GROUP BY key over the file's row numbers, then the
//   runs (one row each, a few hundred thousand) in file order, then one numeric window when a
//   column must not decrease. checks.ts runs this first and the per-row form only to explain a
//   failure.
// Why they agree (key and counter not null): let a run be a key's rows, row numbers r. If for
// every key r - counter is one constant c, the rows count r1 - r0 + 1 (so no other key's row lies
// between r0 and r1) and the least counter is 0, then c = r0 and the counter is r - r0: 0, 1, 2 ...
// along one unbroken run, which is what "counter = previous + 1 within a key, else 0" says row by
// row. Runs ordered by first row with strictly ascending keys is "each key <= the next row's" at
// the boundaries (within a run the keys are equal). Inside a run counter > 0 exactly when the row
// before is of the same run, so `counter = 0 OR value >= previous value` is the per-row rule.
import type { Db } from '../duckdb.js';
import { sqlPath } from '../duckdb.js';
import type { RowRule } from '../checks.js';

export interface FileOrder {
  /** Columns naming a run, e.g. source, user_id, session_id. */
  readonly key: readonly string[];
  /** Counts 0, 1, 2, ... along each run, e.g. seq. */
  readonly counter: string;
  /** A column that never decreases along a run (e.g. press_ms), if any. */
  readonly ascending?: string;
  /** Rule names, as failures print them: the counter (and ascending) rule, and the key order rule. */
  readonly counterRule: string;
  readonly keyRule: string;
  /**
   * Keep the runs as this temp table (key columns, `row_count`, `first_row`: the run's first row
   * number), for a stage whose work needs per-session facts: the check has already read them.
   */
  readonly keepRunsAs?: string;
}

const struct = (columns: readonly string[]) => `(${columns.join(', ')})`;

/** The per-row form: each rule with the windows (previous row in file order) it reads. */
export function orderRules(order: FileOrder): RowRule[] {
  const key = struct(order.key);
  const sameRun = `lag(${key}) OVER () IS NOT DISTINCT FROM ${key}`;
  const { counter, ascending } = order;
  const counterRule: RowRule =
    ascending === undefined
      ? {
          name: order.counterRule,
          withColumns: `CASE WHEN ${sameRun} THEN lag(${counter}) OVER () + 1 ELSE 0 END AS expected_${counter}`,
          holds: `${counter} = expected_${counter}`,
        }
      : {
          name: order.counterRule,
          withColumns: `CASE WHEN ${sameRun} THEN lag(${counter}) OVER () + 1 ELSE 0 END AS expected_${counter},
          CASE WHEN ${sameRun} THEN lag(${ascending}) OVER () END AS previous_${ascending}`,
          holds: `${counter} = expected_${counter} AND ${ascending} >= coalesce(previous_${ascending}, ${ascending})`,
        };
  const keyRule: RowRule = {
    name: order.keyRule,
    withColumns: `lag(${key}) OVER () AS previous_key`,
    holds: `previous_key IS NULL OR previous_key <= ${key}`,
  };
  return [counterRule, keyRule];
}

/** `a < b` for column lists, compared column by column (no struct built per row). */
function lexicographicLess(a: readonly string[], b: readonly string[]): string {
  const [first, ...rest] = a.map((column, i) => [column, b[i]!] as const);
  if (first === undefined) return 'false';
  const [x, y] = first;
  return rest.length === 0
    ? `${x} < ${y}`
    : `(${x} < ${y} OR (${x} = ${y} AND ${lexicographicLess(
        rest.map((p) => p[0]),
        rest.map((p) => p[1]),
      )}))`;
}

/** The whole-table form: true exactly when every row satisfies `orderRules(order)`. */
export async function orderHolds(db: Db, path: string, order: FileOrder): Promise<boolean> {
  const runs = order.keepRunsAs ?? 'file_order_runs';
  const { key, counter } = order;
  // NULLs in key or counter fail here (their not-null rules name them): the argument above needs values.
  await db.run(`CREATE OR REPLACE TEMP TABLE ${runs} AS
    SELECT ${key.join(', ')}, count(*)::BIGINT AS row_count, min(file_row_number) AS first_row,
           max(file_row_number) - min(file_row_number) + 1 = count(*)
             AND min(file_row_number - ${counter}) = max(file_row_number - ${counter})
             AND min(${counter}) = 0 AND count(${counter}) = count(*)
             AND ${key.map((k) => `count(${k}) = count(*)`).join(' AND ')} AS one_counted_run
    FROM read_parquet(${sqlPath(path)}, file_row_number = true) GROUP BY ALL`);
  const previous = key.map((k) => `previous_${k}`);
  const [tally] = await db.rows<{ bad: number }>(`
    SELECT count(*) FILTER (WHERE NOT one_counted_run OR NOT coalesce(${lexicographicLess(previous, key)}, true))::INTEGER AS bad
    FROM (SELECT *, ${key.map((k) => `lag(${k}) OVER (ORDER BY first_row) AS previous_${k}`).join(', ')} FROM ${runs})`);
  if (order.keepRunsAs === undefined) await db.run(`DROP TABLE ${runs}`);
  if ((tally?.bad ?? 1) > 0) return false;
  if (order.ascending === undefined) return true;
  const [rising] = await db.rows<{ bad: number }>(`
    SELECT count(*) FILTER (WHERE ${counter} <> 0 AND NOT coalesce(${order.ascending} >= previous, false))::INTEGER AS bad
    FROM (SELECT ${counter}, ${order.ascending}, lag(${order.ascending}) OVER () AS previous FROM read_parquet(${sqlPath(path)}))`);
  return rising?.bad === 0;
}
