// The checks each stage runs on the tables it reads (docs/data-tables.md): columns and types,
// not-null columns, and the row rules the next stage relies on. One spec per table, shared by
// every stage that reads it.
import { sqlPath } from '../duckdb.js';
import type { TableSpec } from '../checks.js';

// keypairs pairs each row with the next row of the file, and features reads pairs the same way
// (streaming windows, no sort), so each part file of both tables must hold each session as one run, seq counting 0,
// 1, 2, ... along it, the sessions in (source, user_id, session_id) order, as clean and keypairs
// write them. file-order.ts checks that without a window over the whole table.
const SESSION = ['source', 'user_id', 'session_id'];

/** The columns keystrokes and key pairs both start with: whose session, and the row's seq in it. */
const SESSION_COLUMNS = {
  source: 'VARCHAR',
  platform: 'VARCHAR',
  user_id: 'VARCHAR',
  session_id: 'VARCHAR',
  seq: 'INTEGER',
} as const;

/** `table`: the part file as users know it, e.g. `data/clean/keystrokes/part-000000.parquet`. */
export function keystrokesSpec(path: string, table: string): TableSpec {
  return {
    table,
    path,
    relation: `read_parquet(${sqlPath(path)})`,
    columns: {
      ...SESSION_COLUMNS,
      press_ms: 'DOUBLE',
      release_ms: 'DOUBLE',
      key: 'VARCHAR',
      code: 'VARCHAR',
      keycode: 'INTEGER',
      source_file: 'VARCHAR',
      source_line: 'INTEGER',
    },
    notNull: [
      'source',
      'platform',
      'user_id',
      'session_id',
      'seq',
      'press_ms',
      'release_ms',
      'keycode',
      'source_file',
      'source_line',
    ],
    rules: [
      { name: 'known_source', holds: `source IN ('webapp', 'aalto')` },
      { name: 'known_platform', holds: `platform IN ('desktop', 'mobile')` },
      { name: 'positive_hold', holds: 'release_ms > press_ms' },
      { name: 'keycode_range', holds: 'keycode BETWEEN 0 AND 255' },
    ],
    // Pairs are consecutive keystrokes by press time, so seq also counts by press time.
    order: {
      key: SESSION,
      counter: 'seq',
      ascending: 'press_ms',
      counterRule: 'seq_counts_by_press_time',
      keyRule: 'sessions_in_order',
    },
  };
}

/** `keepRunsAs`: keep the sessions the order check counts as that temp table (file-order.ts). */
export function keypairsSpec(path: string, table: string, keepRunsAs?: string): TableSpec {
  return {
    table,
    path,
    relation: `read_parquet(${sqlPath(path)})`,
    columns: {
      ...SESSION_COLUMNS,
      keycode1: 'INTEGER',
      keycode2: 'INTEGER',
      hl_ms: 'DOUBLE',
      il_ms: 'DOUBLE',
      pl_ms: 'DOUBLE',
      rl_ms: 'DOUBLE',
    },
    notNull: [
      'source',
      'user_id',
      'session_id',
      'seq',
      'keycode1',
      'keycode2',
      'hl_ms',
      'il_ms',
      'pl_ms',
      'rl_ms',
    ],
    rules: [
      { name: 'keycode_range', holds: 'keycode1 BETWEEN 0 AND 255 AND keycode2 BETWEEN 0 AND 255' },
      { name: 'positive_hold', holds: 'hl_ms > 0' },
      // Keystrokes are ordered by press time, so the next press never comes before this one.
      { name: 'press_order', holds: 'pl_ms >= 0' },
      // Exact in doubles: press and release epoch ms are close enough that each difference is exact.
      { name: 'pl_equals_hl_plus_il', holds: 'abs(pl_ms - (hl_ms + il_ms)) <= 1e-6' },
    ],
    // features puts pair seq at sequence position seq: no gaps, no repeats within a session.
    order: {
      key: SESSION,
      counter: 'seq',
      counterRule: 'seq_counts_from_zero',
      keyRule: 'sessions_in_order',
      ...(keepRunsAs === undefined ? {} : { keepRunsAs }),
    },
  };
}

/**
 * Not an input: what features wrote, checked in the order it promises (features.ts treats a
 * failure as a bug). Every kept session has positions 0 .. M-1, so position counts from 0.
 */
export function sequencesOrderSpec(path: string, table: string): TableSpec {
  return {
    table,
    path,
    relation: `read_parquet(${sqlPath(path)})`,
    columns: { source: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', position: 'INTEGER' },
    notNull: ['source', 'user_id', 'session_id', 'position'],
    rules: [],
    order: {
      key: SESSION,
      counter: 'position',
      counterRule: 'positions_count_from_zero',
      keyRule: 'sessions_in_order',
    },
  };
}
