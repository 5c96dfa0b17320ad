// The checks each stage runs on the tables it reads (docs/data-tables.md): columns and types,
// not-null columns, and the row rules the next stage relies on. One spec per table, shared by
// every stage that reads it.
import { sqlString } from '../duckdb.js';
import type { RowRule, TableSpec } from '../checks.js';

// Order rules read the file in its own order: `lag(...) OVER ()` with no PARTITION or ORDER BY is
// a streaming window (the previous row as the file has it), where a partitioned window sorted a
// copy of the whole table: 10M keystrokes, more than a gigabyte, just to check it.
const SAME_SESSION_AS_PREVIOUS_ROW = `lag((source, user_id, session_id)) OVER () IS NOT DISTINCT FROM (source, user_id, session_id)`;

/** Each session one run of rows, the runs in (source, user_id, session_id) order. */
const SESSIONS_IN_ORDER: RowRule = {
  name: 'sessions_in_order',
  withColumns: `lag((source, user_id, session_id)) OVER () AS previous_session`,
  holds: `previous_session IS NULL OR previous_session <= (source, user_id, session_id)`,
};

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
      // keypairs pairs each row with the next row of the file (a streaming window, no sort), so the
      // file must hold each session as one run, seq counting 0, 1, 2, ... by press time, and the
      // sessions in (source, user_id, session_id) order, as clean writes it.
      {
        name: 'seq_counts_by_press_time',
        withColumns: `CASE WHEN ${SAME_SESSION_AS_PREVIOUS_ROW} THEN lag(seq) OVER () + 1 ELSE 0 END AS expected_seq,
          CASE WHEN ${SAME_SESSION_AS_PREVIOUS_ROW} THEN lag(press_ms) OVER () END AS previous_press_ms`,
        holds: 'seq = expected_seq AND press_ms >= coalesce(previous_press_ms, press_ms)',
      },
      SESSIONS_IN_ORDER,
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
      // features puts pair seq at sequence position seq: no gaps, no repeats within a session
      // (checked in file order, as keypairs writes it: sessions in order, seq counting from 0).
      {
        name: 'seq_counts_from_zero',
        withColumns: `CASE WHEN ${SAME_SESSION_AS_PREVIOUS_ROW} THEN lag(seq) OVER () + 1 ELSE 0 END AS expected_seq`,
        holds: 'seq = expected_seq',
      },
      SESSIONS_IN_ORDER,
    ],
  };
}
