// The report's SQL: DuckDB does every pass over the big tables and hands back small aggregates
// (one row per session, per histogram bin, per rule), so the report's memory does not grow with
// the number of keystrokes. BIGINT results are cast in SQL so JS receives plain numbers.
import type { Db } from '../duckdb.js';
import type { Inputs } from './inputs.js';
import { binSql } from './bins.js';

/**
 * JavaScript keyCodes of keys that type one character: space, digits, letters, numpad digits and
 * operators, punctuation (US layout 186-192, 219-222; Firefox's 59, 61, 173; the ISO key 226).
 * Shift, Ctrl, arrows, Enter, Tab and Backspace type none.
 */
export const printableKeycode = `(keycode IN (32, 59, 61, 173, 226) OR keycode BETWEEN 48 AND 57 OR keycode BETWEEN 65 AND 90
  OR keycode BETWEEN 96 AND 111 OR keycode BETWEEN 186 AND 192 OR keycode BETWEEN 219 AND 222)`;
export const backspaceKeycode = 8;

export const latencyNames = ['hl', 'il', 'pl', 'rl'] as const;
export type LatencyName = (typeof latencyNames)[number];

/** One typed sentence: what the per-participant statistics are computed from (stats.ts). */
export interface SessionRow {
  readonly source: string;
  readonly platform: string;
  readonly user_id: string;
  readonly session_id: string;
  readonly keystrokes: number;
  /** Keystrokes with keyCode 8 (Backspace: `BKSP` in the Aalto files, `Backspace` in the web app). */
  readonly backspaces: number;
  /**
   * Length of the typed text: from data/clean/sessions/'s `typed_text` when that table has
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
  /** Sums over the session's key pairs, ms (pl_sum_ms: press-to-press intervals). */
  readonly hl_sum_ms: number;
  readonly il_sum_ms: number;
  readonly pl_sum_ms: number;
  readonly rl_sum_ms: number;
  /** Pairs whose next press comes before the previous release (IL < 0). */
  readonly rollovers: number;
  /** Rows of this session in data/features/sequences/ (M), or null when features left it out. */
  readonly sequence_rows: number | null;
  /** Of those rows, the padding ones (M minus the session's pairs when it has fewer than M). */
  readonly padding_rows: number | null;
}

/**
 * One row per session, from one pass over each of keystrokes, keypairs and sequences (and the
 * optional sessions table): everything per session or per participant derives from these rows.
 */
export function sessionRows(
  db: Db,
  t: Inputs['sql'],
  sessionsTable: string | null,
): Promise<SessionRow[]> {
  // Without the optional sessions table, an empty one with the same columns keeps one query.
  const texts =
    sessionsTable ??
    '(SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS user_id, NULL::VARCHAR AS session_id, NULL::VARCHAR AS typed_text WHERE false)';
  const sums = latencyNames.map((l) => `sum(${l}_ms)::DOUBLE AS ${l}_sum_ms`).join(', ');
  const sumsOut = latencyNames
    .map((l) => `coalesce(kp.${l}_sum_ms, 0)::DOUBLE AS ${l}_sum_ms`)
    .join(', ');
  return db.rows<SessionRow>(`
    WITH ks AS (
      SELECT source, platform, user_id, session_id,
        count(*)::INTEGER AS keystrokes,
        (count(*) FILTER (WHERE keycode = ${backspaceKeycode}))::INTEGER AS backspaces,
        greatest(count(*) FILTER (WHERE ${printableKeycode}) - count(*) FILTER (WHERE keycode = ${backspaceKeycode}), 0)::INTEGER AS estimated_length,
        min(press_ms)::DOUBLE AS first_press_ms, max(press_ms)::DOUBLE AS last_press_ms,
        sum(release_ms - press_ms)::DOUBLE AS hold_sum_ms
      FROM ${t.keystrokes} GROUP BY source, platform, user_id, session_id),
    kp AS (
      SELECT source, user_id, session_id, count(*)::INTEGER AS pairs, ${sums},
        (count(*) FILTER (WHERE il_ms < 0))::INTEGER AS rollovers
      FROM ${t.keypairs} GROUP BY source, user_id, session_id),
    sq AS (
      SELECT source, user_id, session_id, count(*)::INTEGER AS sequence_rows,
        (count(*) FILTER (WHERE is_padding))::INTEGER AS padding_rows
      FROM ${t.sequences} GROUP BY source, user_id, session_id),
    tt AS (SELECT source, user_id, session_id, length(typed_text)::INTEGER AS text_length FROM ${texts} WHERE typed_text IS NOT NULL)
    SELECT ks.* EXCLUDE (estimated_length),
      coalesce(tt.text_length, ks.estimated_length)::INTEGER AS typed_length, tt.text_length IS NULL AS typed_length_estimated,
      coalesce(kp.pairs, 0)::INTEGER AS pairs, ${sumsOut},
      coalesce(kp.rollovers, 0)::INTEGER AS rollovers,
      sq.sequence_rows, sq.padding_rows
    FROM ks LEFT JOIN kp USING (source, user_id, session_id) LEFT JOIN tt USING (source, user_id, session_id)
      LEFT JOIN sq USING (source, user_id, session_id)
    ORDER BY source, user_id, session_id`);
}

export interface TableCounts {
  readonly keystrokes: number;
  readonly key_pairs: number;
}

/** Row counts: DuckDB reads a bare count(*) of a Parquet file from its footer, without a scan. */
export async function tableCounts(db: Db, t: Inputs['sql']): Promise<TableCounts> {
  const [row] = await db.rows<TableCounts>(`SELECT
    (SELECT count(*) FROM ${t.keystrokes})::INTEGER AS keystrokes,
    (SELECT count(*) FROM ${t.keypairs})::INTEGER AS key_pairs`);
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

/** [25th, 50th, 75th] percentiles, interpolated (DuckDB quantile_cont), ms. */
export type Quartiles = readonly [number, number, number];
const quartiles = (col: string) => `quantile_cont(${col}, [0.25, 0.5, 0.75])`;

export interface LatencyGroupRow {
  readonly latency: LatencyName;
  readonly grp: string;
  readonly n: number;
  readonly mean_ms: number;
  /** Sample SD over the group's pairs; null for a single pair. */
  readonly sd_ms: number | null;
  readonly quartiles_ms: Quartiles;
  readonly negative: number;
  /** Histogram counts per bin (bins.ts: whole ms in symlog steps). */
  readonly bins: readonly { bin: number; count: number }[];
}

/**
 * HL, IL, PL and RL per source/platform group, from one pass over keypairs that counts each
 * distinct value per group and latency (GROUPING SETS over the wide table: no unpivot of every
 * pair). Latencies have a resolution (whole ms in the Aalto files), so there are few distinct
 * values, and count, mean, SD, quartiles, negatives and the histogram all follow from the counts.
 * The quartiles are quantile_cont's (position (n - 1) p between sorted values, interpolated),
 * found as the values whose running count passes floor and ceil of that position: the same
 * numbers without sorting every pair. Mean and SD sum the distinct values in value order, so the
 * same pairs give the same digits whatever the part layout (see participantLatencies).
 */
export function latencyGroups(db: Db, t: Inputs['sql']): Promise<LatencyGroupRow[]> {
  const sets = latencyNames.map((l) => `(source, platform, ${l}_ms)`).join(', ');
  const which = (f: (l: LatencyName) => string) =>
    `CASE ${latencyNames.map((l) => `WHEN grouping(${l}_ms) = 0 THEN ${f(l)}`).join(' ')} END`;
  const quartile = (p: number) => {
    const pos = `((n - 1) * ${p})`;
    const below = `min(ms) FILTER (WHERE upto > floor(${pos}))`;
    const above = `min(ms) FILTER (WHERE upto > ceil(${pos}))`;
    return `${below} + (${above} - ${below}) * (${pos} - floor(${pos}))`;
  };
  return db.rows<LatencyGroupRow>(`
    WITH counts AS (
      SELECT source || '/' || platform AS grp, ${which((l) => `'${l}'`)} AS latency,
        ${which((l) => `${l}_ms`)} AS ms, count(*) AS c
      FROM ${t.keypairs} GROUP BY GROUPING SETS (${sets})),
    running AS (
      SELECT *, sum(c) OVER (PARTITION BY grp, latency ORDER BY ms ROWS UNBOUNDED PRECEDING) AS upto,
        sum(c) OVER (PARTITION BY grp, latency) AS n,
        sum(c * ms) OVER (PARTITION BY grp, latency ORDER BY ms ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
          / sum(c) OVER (PARTITION BY grp, latency) AS mean
      FROM counts),
    bins AS (
      SELECT grp, latency, list({'bin': bin, 'count': count} ORDER BY bin) AS bins
      FROM (SELECT grp, latency, ${binSql('ms')} AS bin, sum(c)::INTEGER AS count FROM counts GROUP BY ALL)
      GROUP BY ALL)
    SELECT latency, grp, n::INTEGER AS n, mean::DOUBLE AS mean_ms,
      CASE WHEN n > 1 THEN sqrt(sum(c * (ms - mean) ^ 2 ORDER BY ms) / (n - 1)) END::DOUBLE AS sd_ms,
      [${[0.25, 0.5, 0.75].map(quartile).join(', ')}]::DOUBLE[] AS quartiles_ms,
      coalesce(sum(c) FILTER (WHERE ms < 0), 0)::INTEGER AS negative,
      any_value(bins.bins) AS bins
    FROM running JOIN bins USING (grp, latency)
    GROUP BY latency, grp, n, mean ORDER BY latency, grp`);
}

/** One participant's spread of each latency over all their key pairs. */
export interface ParticipantLatencyRow {
  readonly source: string;
  readonly user_id: string;
  readonly pairs: number;
  readonly hl: LatencySpread;
  readonly il: LatencySpread;
  readonly pl: LatencySpread;
  readonly rl: LatencySpread;
}
export interface LatencySpread {
  readonly mean_ms: number;
  /** Sample SD; null for a single pair. */
  readonly sd_ms: number | null;
  readonly quartiles_ms: Quartiles;
}

/**
 * Per participant (source, user_id): mean, SD and quartiles of HL, IL, PL, RL; one pass over
 * keypairs. A floating-point sum depends on the order of its terms, and the order rows arrive in
 * depends on the part layout and the threads, so mean and SD can differ in the last digits (about
 * 1e-15 relative) between two layouts of the same pairs. Summing in value order (`avg(x ORDER BY
 * x)`) removed that but buffered every value of every group eight more times: at 10M pairs the
 * report ran out of its 1.2 GB (bench/incremental.ts). test/parts-layout.test.ts compares the
 * numbers to 1e-12 relative instead.
 */
export function participantLatencies(db: Db, t: Inputs['sql']): Promise<ParticipantLatencyRow[]> {
  const cols = latencyNames
    .map(
      (l) =>
        `{'mean_ms': avg(${l}_ms)::DOUBLE, 'sd_ms': stddev_samp(${l}_ms)::DOUBLE, 'quartiles_ms': ${quartiles(`${l}_ms`)}} AS ${l}`,
    )
    .join(',\n      ');
  return db.rows<ParticipantLatencyRow>(`
    SELECT source, user_id, count(*)::INTEGER AS pairs,
      ${cols}
    FROM ${t.keypairs} GROUP BY source, user_id ORDER BY source, user_id`);
}

export interface DigraphRow {
  readonly keycode1: number;
  readonly keycode2: number;
  readonly count: number;
  /** Quartiles of HL (of the first key), IL, PL and RL over this digraph's pairs, ms. */
  readonly hl_ms: Quartiles;
  readonly il_ms: Quartiles;
  readonly pl_ms: Quartiles;
  readonly rl_ms: Quartiles;
}

/**
 * The `top` most frequent key pairs (keyCode, next keyCode) with their latency quartiles: a count
 * of every pair (two integer columns), then the quartiles over the top pairs' rows only.
 */
export function topDigraphs(db: Db, t: Inputs['sql'], top: number): Promise<DigraphRow[]> {
  const qs = latencyNames.map((l) => `${quartiles(`${l}_ms`)} AS ${l}_ms`).join(', ');
  return db.rows<DigraphRow>(`
    WITH top AS (
      SELECT keycode1, keycode2, count(*) AS n FROM ${t.keypairs}
      GROUP BY ALL ORDER BY n DESC, keycode1, keycode2 LIMIT ${top})
    SELECT keycode1::INTEGER AS keycode1, keycode2::INTEGER AS keycode2, count(*)::INTEGER AS count, ${qs}
    FROM ${t.keypairs} SEMI JOIN top USING (keycode1, keycode2)
    GROUP BY ALL ORDER BY count DESC, keycode1, keycode2`);
}

export interface KeyRow {
  readonly keycode: number;
  /** The most frequent `key` value typed with this keyCode (the Aalto files often leave it empty). */
  readonly key: string | null;
  readonly count: number;
}

/** Every keyCode typed, most frequent first (at most 256 rows: the top ones are charted, all name digraphs). */
export function keyFrequency(db: Db, t: Inputs['sql']): Promise<KeyRow[]> {
  return db.rows<KeyRow>(`
    SELECT keycode::INTEGER AS keycode, mode(nullif(key, '')) AS key, count(*)::INTEGER AS count
    FROM ${t.keystrokes} GROUP BY keycode ORDER BY count DESC, keycode`);
}
