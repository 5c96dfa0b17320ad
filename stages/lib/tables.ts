// The checks each stage runs on the tables it reads (docs/data-tables.md): columns and types,
// not-null columns, and the row rules the next stage relies on. One spec per table, shared by
// every stage that reads it.
import { sqlString } from '../duckdb.js';
import type { TableSpec } from '../checks.js';

export function keystrokesSpec(path: string): TableSpec {
  return {
    table: 'data/clean/keystrokes.parquet',
    relation: `read_parquet(${sqlString(path)})`,
    columns: {
      source: 'VARCHAR', platform: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', seq: 'INTEGER',
      press_ms: 'DOUBLE', release_ms: 'DOUBLE', key: 'VARCHAR', code: 'VARCHAR', keycode: 'INTEGER',
      source_file: 'VARCHAR', source_line: 'INTEGER',
    },
    notNull: ['source', 'platform', 'user_id', 'session_id', 'seq', 'press_ms', 'release_ms', 'keycode', 'source_file', 'source_line'],
    rules: [
      { name: 'known_source', holds: `source IN ('webapp', 'aalto')` },
      { name: 'known_platform', holds: `platform IN ('desktop', 'mobile')` },
      { name: 'positive_hold', holds: 'release_ms > press_ms' },
      { name: 'keycode_range', holds: 'keycode BETWEEN 0 AND 255' },
      // keypairs pairs keystroke seq with seq + 1: seq must count 0, 1, 2, ... by press time.
      {
        name: 'seq_counts_by_press_time',
        withColumns: `row_number() OVER (PARTITION BY source, user_id, session_id ORDER BY seq) - 1 AS expected_seq,
          lag(press_ms) OVER (PARTITION BY source, user_id, session_id ORDER BY seq) AS previous_press_ms`,
        holds: 'seq = expected_seq AND press_ms >= coalesce(previous_press_ms, press_ms)',
      },
    ],
  };
}

export function keypairsSpec(path: string): TableSpec {
  return {
    table: 'data/keypairs/keypairs.parquet',
    relation: `read_parquet(${sqlString(path)})`,
    columns: {
      source: 'VARCHAR', platform: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', seq: 'INTEGER',
      keycode1: 'INTEGER', keycode2: 'INTEGER', hl_ms: 'DOUBLE', il_ms: 'DOUBLE', pl_ms: 'DOUBLE', rl_ms: 'DOUBLE',
    },
    notNull: ['source', 'user_id', 'session_id', 'seq', 'keycode1', 'keycode2', 'hl_ms', 'il_ms', 'pl_ms', 'rl_ms'],
    rules: [
      { name: 'keycode_range', holds: 'keycode1 BETWEEN 0 AND 255 AND keycode2 BETWEEN 0 AND 255' },
      { name: 'positive_hold', holds: 'hl_ms > 0' },
      // Keystrokes are ordered by press time, so the next press never comes before this one.
      { name: 'press_order', holds: 'pl_ms >= 0' },
      // Exact in doubles: press and release epoch ms are close enough that each difference is exact.
      { name: 'pl_equals_hl_plus_il', holds: 'abs(pl_ms - (hl_ms + il_ms)) <= 1e-6' },
      // features puts pair seq at sequence position seq: no gaps, no repeats within a session.
      {
        name: 'seq_counts_from_zero',
        withColumns: 'row_number() OVER (PARTITION BY source, user_id, session_id ORDER BY seq) - 1 AS expected_seq',
        holds: 'seq = expected_seq',
      },
    ],
  };
}
