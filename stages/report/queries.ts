// The report's SQL: DuckDB does every pass over the big tables and hands back small aggregates
// (one row per session, per histogram bin, per rule), so the report's memory does not grow with
// the number of keystrokes. BIGINT results are cast in SQL so JS receives plain numbers.
import type { Db } from '../duckdb.js';
import type { Inputs } from './inputs.js';
import { latencyBinWidth } from './bins.js';

/**
 * JavaScript keyCodes of keys that type one character: space, digits, letters, numpad digits and
 * operators, punctuation (US layout 186-192, 219-222; Firefox's 59, 61, 173; the ISO key 226).
 * Shift, Ctrl, arrows, Enter, Tab and Backspace type none.
 */
export const printableKeycode = `(keycode IN (32, 59, 61, 173, 226) OR keycode BETWEEN 48 AND 57 OR keycode BETWEEN 65 AND 90
  OR keycode BETWEEN 96 AND 111 OR keycode BETWEEN 186 AND 192 OR keycode BETWEEN 219 AND 222)`;
export const backspaceKeycode = 8;

/** One typed sentence: what the per-participant statistics are computed from (stats.ts). */
export interface SessionRow {
  readonly source: string;
  readonly platform: string;
  readonly user_id: string;
  readonly session_id: string;
  readonly keystrokes: number;
  /**
   * Length of the typed text: from data/clean/sessions.parquet's `typed_text` when that table has
   * the session, else estimated from the keystrokes: keys that type a character minus Backspaces
   * (each deletes one), at least 0, exact when the typist only appends and backspaces.
   */
  readonly typed_length: number;
  /** True when typed_length is the estimate (no typed text for this session). */
  readonly typed_length_estimated: boolean;
  readonly first_press_ms: number;
  readonly last_press_ms: number;
  readonly hold_sum_ms: number;
  readonly pairs: number;
  /** Sum of press-to-press intervals (PL), ms. */
  readonly pl_sum_ms: number;
  /** Pairs whose next press comes before the previous release (IL < 0). */
  readonly rollovers: number;
}

export function sessionRows(
  db: Db,
  t: Inputs['sql'],
  sessionsTable: string | null,
): Promise<SessionRow[]> {
  // Without the optional sessions table, an empty one with the same columns keeps one query.
  const texts =
    sessionsTable ??
    '(SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS session_id, NULL::VARCHAR AS typed_text WHERE false)';
  return db.rows<SessionRow>(`
    WITH ks AS (
      SELECT source, platform, user_id, session_id,
        count(*)::INTEGER AS keystrokes,
        greatest(count(*) FILTER (WHERE ${printableKeycode}) - count(*) FILTER (WHERE keycode = ${backspaceKeycode}), 0)::INTEGER AS estimated_length,
        min(press_ms)::DOUBLE AS first_press_ms, max(press_ms)::DOUBLE AS last_press_ms,
        sum(release_ms - press_ms)::DOUBLE AS hold_sum_ms
      FROM ${t.keystrokes} GROUP BY source, platform, user_id, session_id),
    kp AS (
      SELECT source, user_id, session_id, count(*)::INTEGER AS pairs, sum(pl_ms)::DOUBLE AS pl_sum_ms,
        (count(*) FILTER (WHERE il_ms < 0))::INTEGER AS rollovers
      FROM ${t.keypairs} GROUP BY source, user_id, session_id),
    tt AS (SELECT source, session_id, length(typed_text)::INTEGER AS text_length FROM ${texts} WHERE typed_text IS NOT NULL)
    SELECT ks.* EXCLUDE (estimated_length),
      coalesce(tt.text_length, ks.estimated_length)::INTEGER AS typed_length, tt.text_length IS NULL AS typed_length_estimated,
      coalesce(kp.pairs, 0)::INTEGER AS pairs, coalesce(kp.pl_sum_ms, 0)::DOUBLE AS pl_sum_ms,
      coalesce(kp.rollovers, 0)::INTEGER AS rollovers
    FROM ks LEFT JOIN kp USING (source, user_id, session_id) LEFT JOIN tt USING (source, session_id)
    ORDER BY source, user_id, session_id`);
}

export interface TableCounts {
  readonly keystrokes: number;
  readonly key_pairs: number;
  readonly sequences: number;
  readonly sequence_rows: number;
  readonly padding_rows: number;
}

export async function tableCounts(db: Db, t: Inputs['sql']): Promise<TableCounts> {
  const [row] = await db.rows<TableCounts>(`SELECT
    (SELECT count(*) FROM ${t.keystrokes})::INTEGER AS keystrokes,
    (SELECT count(*) FROM ${t.keypairs})::INTEGER AS key_pairs,
    (SELECT count(DISTINCT session_id) FROM ${t.sequences})::INTEGER AS sequences,
    (SELECT count(*) FROM ${t.sequences})::INTEGER AS sequence_rows,
    (SELECT count(*) FILTER (WHERE is_padding) FROM ${t.sequences})::INTEGER AS padding_rows`);
  if (row === undefined) throw new Error('bug: a SELECT without FROM returned no row');
  return row;
}

export interface RejectRow {
  readonly rule: string;
  readonly source: string;
  readonly count: number;
  readonly examples: { source_file: string; source_line: number | null; detail: string | null }[];
}

/** Rejected rows per rule and source, with the first few in file order as examples. */
export function rejectsByRule(
  db: Db,
  t: Inputs['sql'],
  examplesPerRule: number,
): Promise<RejectRow[]> {
  return db.rows<RejectRow>(`
    WITH ranked AS (
      SELECT *, row_number() OVER (PARTITION BY rule, source ORDER BY source_file, source_line NULLS FIRST) AS k
      FROM ${t.rejects})
    SELECT rule, source, count(*)::INTEGER AS count,
      list({'source_file': source_file, 'source_line': source_line::INTEGER, 'detail': detail::VARCHAR}
        ORDER BY k) FILTER (WHERE k <= ${examplesPerRule}) AS examples
    FROM ranked GROUP BY rule, source ORDER BY count DESC, rule, source`);
}

export type LatencyName = 'hl' | 'il' | 'pl';

export interface LatencyBinRow {
  readonly latency: LatencyName;
  readonly grp: string;
  /** Bin index in symlog space: the bin holds x with floor(sign(x) ln(1 + |x|) / width) = bin. */
  readonly bin: number;
  readonly count: number;
}

/** Histogram counts of HL, IL and PL per source/platform group, in symlog bins (see bins.ts). */
export function latencyBins(db: Db, t: Inputs['sql']): Promise<LatencyBinRow[]> {
  const w = latencyBinWidth;
  return db.rows<LatencyBinRow>(`
    WITH long AS (
      UNPIVOT (SELECT source || '/' || platform AS grp, hl_ms AS hl, il_ms AS il, pl_ms AS pl FROM ${t.keypairs})
      ON hl, il, pl INTO NAME latency VALUE ms)
    SELECT latency, grp, floor(sign(ms) * ln(1 + abs(ms)) / ${w})::INTEGER AS bin, count(*)::INTEGER AS count
    FROM long GROUP BY ALL ORDER BY latency, grp, bin`);
}

export interface LatencyStatsRow {
  readonly latency: LatencyName;
  readonly grp: string;
  readonly n: number;
  readonly mean_ms: number;
  readonly median_ms: number;
  readonly negative: number;
}

export function latencyStats(db: Db, t: Inputs['sql']): Promise<LatencyStatsRow[]> {
  return db.rows<LatencyStatsRow>(`
    WITH long AS (
      UNPIVOT (SELECT source || '/' || platform AS grp, hl_ms AS hl, il_ms AS il, pl_ms AS pl FROM ${t.keypairs})
      ON hl, il, pl INTO NAME latency VALUE ms)
    SELECT latency, grp, count(*)::INTEGER AS n, avg(ms)::DOUBLE AS mean_ms, median(ms)::DOUBLE AS median_ms,
      (count(*) FILTER (WHERE ms < 0))::INTEGER AS negative
    FROM long GROUP BY ALL ORDER BY latency, grp`);
}

export interface KeyRow {
  readonly keycode: number;
  /** The most frequent `key` value typed with this keyCode (the Aalto files often leave it empty). */
  readonly key: string | null;
  readonly count: number;
}

export function keyFrequency(db: Db, t: Inputs['sql'], top: number): Promise<KeyRow[]> {
  return db.rows<KeyRow>(`
    SELECT keycode::INTEGER AS keycode, mode(nullif(key, '')) AS key, count(*)::INTEGER AS count
    FROM ${t.keystrokes} GROUP BY keycode ORDER BY count DESC, keycode LIMIT ${top}`);
}
