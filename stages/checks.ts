// Input checks a stage runs before it works: a stage never runs on data it does not understand.
// Each check is data (columns, types, not-null columns, named row rules as SQL predicates, and the
// file order the stage streams in), and a failure names the stage, the table, the rule and one
// example row, so the fix is obvious.
import { err, ok, type Result } from '../lib/stage-api/index.js';
import type { Db } from './duckdb.js';
import { orderHolds, orderRules, type FileOrder } from './shared/file-order.js';

export interface RowRule {
  /** Short name printed on failure, e.g. `pl_equals_hl_plus_il`. */
  readonly name: string;
  /** A SQL predicate every row must satisfy (NULL counts as a failure). */
  readonly holds: string;
  /**
   * Rules about order need window functions, which WHERE cannot hold: such a rule names the
   * window columns it adds to the table's rows, and `holds` may use them. Prefer `lag(...) OVER ()`
   * (the row before in file order, streamed) to a partitioned window, which sorts a copy of the table.
   */
  readonly withColumns?: string;
}

export interface TableSpec {
  /** The table as users know it: a workspace-relative path. */
  readonly table: string;
  /** Absolute path of the Parquet file. */
  readonly path: string;
  /** SQL that reads it, e.g. `read_parquet('/abs/path')`. */
  readonly relation: string;
  /** Column name -> DuckDB type name as DESCRIBE prints it (`VARCHAR`, `INTEGER`, `DOUBLE`, `BOOLEAN`). */
  readonly columns: Readonly<Record<string, string>>;
  readonly notNull: readonly string[];
  readonly rules: readonly RowRule[];
  /** The order the stage streams the file in (rules `order.counterRule` and `order.keyRule`, after `rules`). */
  readonly order?: FileOrder;
}

/** The table's row count, or the first check it fails as one line naming stage, table and rule. */
export type CheckResult = Result<number, string>;

function failure(stage: string, table: string, rule: string, detail: string): CheckResult {
  return err(`stage ${stage}: input ${table} fails check "${rule}": ${detail}`);
}

/** Runs every check of `spec` in order and returns the first failure, or the row count. */
export async function checkTable(db: Db, stage: string, spec: TableSpec): Promise<CheckResult> {
  let described: { column_name: string; column_type: string }[];
  try {
    described = await db.rows(`DESCRIBE SELECT * FROM ${spec.relation}`);
  } catch (error) {
    return failure(
      stage,
      spec.table,
      'readable',
      `${(error as Error).message.split('\n')[0]} (run the upstream stage again)`,
    );
  }
  const actual = new Map(described.map((c) => [c.column_name, c.column_type]));
  for (const [name, type] of Object.entries(spec.columns)) {
    const got = actual.get(name);
    if (got === undefined) {
      return failure(
        stage,
        spec.table,
        'columns',
        `column ${name} (${type}) is missing; it has ${[...actual.keys()].join(', ')}`,
      );
    }
    if (got !== type)
      return failure(stage, spec.table, 'types', `column ${name} is ${got}, expected ${type}`);
  }
  const rules: RowRule[] = [
    ...spec.notNull.map((column) => ({
      name: `not_null(${column})`,
      holds: `"${column}" IS NOT NULL`,
    })),
    ...spec.rules,
    ...(spec.order === undefined ? [] : orderRules(spec.order)),
  ];
  const passed = await allHold(db, spec);
  if (passed !== undefined) return ok(passed);
  return explain(db, stage, spec, rules);
}

/**
 * The row count when every rule holds, else undefined: exact, and cheap when all is well. The
 * row rules are one parallel scan (not-null as count(column), the rest as one AND), and the order
 * rules their whole-table form (shared/file-order.ts), so no rule reads the table through a window.
 */
async function allHold(db: Db, spec: TableSpec): Promise<number | undefined> {
  const nonNull = spec.notNull.map((column, i) => `count("${column}")::BIGINT = count(*) AS c${i}`);
  const rowRules = spec.rules.map((rule) => {
    if (rule.withColumns !== undefined)
      throw new Error(`rule ${rule.name} of ${spec.table}: order rules belong in TableSpec.order`);
    return `(${rule.holds})`;
  });
  const violations =
    rowRules.length === 0
      ? '0'
      : `count(*) FILTER (WHERE NOT coalesce(${rowRules.join(' AND ')}, false))`;
  const [tally] = await db.rows<Record<string, number | boolean>>(
    `SELECT count(*)::INTEGER AS n, (${violations})::INTEGER AS bad${nonNull.map((c) => `, ${c}`).join('')} FROM ${spec.relation}`,
  );
  if (
    tally === undefined ||
    tally.bad !== 0 ||
    spec.notNull.some((_, i) => tally[`c${i}`] !== true)
  )
    return undefined;
  if (spec.order !== undefined && !(await orderHolds(db, spec.path, spec.order))) return undefined;
  return Number(tally.n);
}

/**
 * Some rule fails: count each rule's violations row by row (order rules through their windows) and
 * report the first failing rule with one example row. Only a failing table pays for this.
 */
async function explain(
  db: Db,
  stage: string,
  spec: TableSpec,
  rules: readonly RowRule[],
): Promise<CheckResult> {
  const windows = [
    ...new Set(rules.flatMap((rule) => (rule.withColumns === undefined ? [] : [rule.withColumns]))),
  ];
  const from =
    windows.length === 0
      ? spec.relation
      : `(SELECT *, ${windows.join(', ')} FROM ${spec.relation})`;
  const counts = rules.map(
    (rule, i) => `count(*) FILTER (WHERE NOT coalesce((${rule.holds}), false))::INTEGER AS r${i}`,
  );
  const [tally] = await db.rows<Record<string, number>>(`SELECT ${counts.join(', ')} FROM ${from}`);
  for (const [i, rule] of rules.entries()) {
    const n = tally?.[`r${i}`] ?? 0;
    if (n > 0) {
      // The example shows the table's columns plus only the window columns this rule uses.
      const own =
        rule.withColumns === undefined
          ? spec.relation
          : `(SELECT *, ${rule.withColumns} FROM ${spec.relation})`;
      const example = await db.rows(
        `SELECT * FROM ${own} WHERE NOT coalesce((${rule.holds}), false) LIMIT 1`,
      );
      return failure(
        stage,
        spec.table,
        rule.name,
        `${n} row(s) violate ${rule.holds}; for example ${JSON.stringify(example[0])}`,
      );
    }
  }
  // The whole-table test failed but no row breaks a rule: the two forms disagree, a bug here.
  return failure(
    stage,
    spec.table,
    'checks_agree',
    'the whole-table check failed but no rule names a row (a bug in stages/checks.ts or stages/shared/file-order.ts)',
  );
}

/** Runs all specs; on the first failure prints its message and exits 1 (the runner reports the stage failed). */
export async function requireTables(
  db: Db,
  stage: string,
  specs: readonly TableSpec[],
): Promise<void> {
  for (const spec of specs) {
    const result = await checkTable(db, stage, spec);
    if (!result.ok) {
      process.stderr.write(`${result.error}\n`);
      db.close();
      process.exit(1);
    }
  }
}
