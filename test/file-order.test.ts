// The order checks have two forms (stages/shared/file-order.ts): per-row windows, which define the
// rules and name a failing row, and a whole-table test (runs grouped by key), which checks.ts
// relies on to pass a table. If the whole-table test passed a table the per-row rules reject, a
// stage would run on data it does not understand. So both forms are compared here with a third,
// independent verdict written in plain TypeScript from the rules' wording, on a few hundred small
// files: valid ones, and valid ones with random faults (rows swapped, dropped or repeated, a seq or
// press time or key changed, another session's row wedged into a run), from a fixed seed so a
// failure reproduces. Each condition of the whole-table form fails this test when removed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuckDb, type Db } from '../stages/duckdb.js';
import { orderHolds, orderRules, type FileOrder } from '../stages/shared/file-order.js';

interface Row {
  source: string;
  user_id: string;
  session_id: string;
  seq: number;
  press_ms: number;
}
const KEY = ['source', 'user_id', 'session_id'] as const;
const keyOf = (r: Row) => KEY.map((k) => r[k]);

/** The rules as docs/data-tables.md words them, row by row in file order. */
function verdict(rows: readonly Row[], withPress: boolean): boolean {
  return rows.every((row, i) => {
    const before = rows[i - 1];
    if (before === undefined) return row.seq === 0;
    const [a, b] = [keyOf(before), keyOf(row)];
    const same = a.every((v, j) => v === b[j]);
    const keysAscend = same || a.join('\u0000') < b.join('\u0000'); // ASCII values without NUL: byte order
    const counts = same
      ? row.seq === before.seq + 1 && (!withPress || row.press_ms >= before.press_ms)
      : row.seq === 0;
    return keysAscend && counts;
  });
}

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A valid file (sessions in key order, seq 0, 1, ... by press time), then 0-2 random faults. */
function table(next: () => number): Row[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const keys = new Set<string>();
  for (let n = 1 + Math.floor(next() * 4); keys.size < n; )
    keys.add([pick(['aalto', 'webapp']), pick(['u1', 'u2']), pick(['s1', 's2'])].join('/'));
  const rows: Row[] = [];
  for (const key of [...keys].sort()) {
    const [source, user_id, session_id] = key.split('/') as [string, string, string];
    let press = Math.floor(next() * 10);
    for (let seq = 0, n = 1 + Math.floor(next() * 3); seq < n; seq++) {
      press += Math.floor(next() * 3);
      rows.push({ source, user_id, session_id, seq, press_ms: press });
    }
  }
  for (let faults = Math.floor(next() * 3); faults > 0; faults--) {
    const i = Math.floor(next() * rows.length);
    const j = Math.floor(next() * rows.length);
    const fault = pick(['swap', 'drop', 'repeat', 'seq', 'press', 'key', 'wedge'] as const);
    if (fault === 'swap') [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    else if (fault === 'drop' && rows.length > 1) rows.splice(i, 1);
    else if (fault === 'repeat') rows.splice(i, 0, { ...rows[i]! });
    else if (fault === 'seq') rows[i] = { ...rows[i]!, seq: rows[i]!.seq + pick([-1, 1]) };
    else if (fault === 'press')
      rows[i] = { ...rows[i]!, press_ms: rows[i]!.press_ms + pick([-2, 2]) };
    else if (fault === 'key')
      rows[i] = { ...rows[i]!, [pick(KEY)]: pick(['aalto', 'u1', 's2', 'webapp']) };
    else if (fault === 'wedge' && i > 0) {
      // A row of a new session (key just above its neighbour's) inside a run whose seq counts on
      // past it: each session alone looks right; only "one run per session" catches it.
      const run = rows[i - 1]!;
      rows.splice(i, 0, { ...run, session_id: `${run.session_id}x`, seq: 0 });
      for (
        let k = i + 1;
        k < rows.length && keyOf(rows[k]!).join('/') === keyOf(run).join('/');
        k++
      )
        rows[k] = { ...rows[k]!, seq: rows[k]!.seq + 1 };
    }
  }
  return rows;
}

let db: Db;
let dir: string;
beforeAll(async () => {
  db = await openDuckDb({ memoryLimit: '500MB', threads: 2 });
  dir = mkdtempSync(join(tmpdir(), 'pipe-file-order-'));
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function write(rows: readonly Row[], path: string): Promise<void> {
  const values = rows
    .map(
      (r, i) =>
        `(${i}, '${r.source}', '${r.user_id}', '${r.session_id}', ${r.seq}::INTEGER, ${r.press_ms}::DOUBLE)`,
    )
    .join(', ');
  await db.run(
    `COPY (SELECT * EXCLUDE (i) FROM (VALUES ${values}) t(i, source, user_id, session_id, seq, press_ms) ORDER BY i) TO '${path}' (FORMAT parquet)`,
  );
}

async function perRow(path: string, order: FileOrder): Promise<boolean> {
  const rules = orderRules(order);
  const [tally] = await db.rows<{
    bad: number;
  }>(`SELECT count(*) FILTER (WHERE NOT coalesce(${rules.map((r) => `(${r.holds})`).join(' AND ')}, false))::INTEGER AS bad
    FROM (SELECT *, ${rules.map((r) => r.withColumns).join(', ')} FROM read_parquet('${path}'))`);
  return tally?.bad === 0;
}

describe('order checks: the whole-table form agrees with the per-row rules', () => {
  it.each([
    ['seq counts by press time (keystrokes)', true],
    ['seq counts from zero (key pairs)', false],
  ])('%s, on 300 small files with and without faults', async (_what, withPress) => {
    const order: FileOrder = {
      key: KEY,
      counter: 'seq',
      counterRule: 'counts',
      keyRule: 'in_order',
      ...(withPress ? { ascending: 'press_ms' } : {}),
    };
    const next = random(withPress ? 7 : 8);
    const outcomes = { pass: 0, fail: 0 };
    for (let i = 0; i < 300; i++) {
      const rows = table(next);
      const path = join(dir, `t${i}.parquet`);
      await write(rows, path);
      const expected = verdict(rows, withPress);
      const forms = {
        perRow: await perRow(path, order),
        wholeTable: await orderHolds(db, path, order),
      };
      expect(forms, JSON.stringify(rows)).toEqual({ perRow: expected, wholeTable: expected });
      outcomes[expected ? 'pass' : 'fail'] += 1;
    }
    // Both verdicts must be well represented, or the comparison proves little.
    expect(outcomes.pass).toBeGreaterThan(60);
    expect(outcomes.fail).toBeGreaterThan(60);
  });
});
