// Summaries of a list of numbers (one value per participant, per session, ...), the way the page
// shows spread: mean, SD and the 10/25/50/75/90th percentiles. Percentiles interpolate linearly
// between order statistics, as DuckDB's quantile_cont does, so SQL and TypeScript numbers agree.

export interface Distribution {
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n - 1); null below 2 values. */
  readonly sd: number | null;
  readonly p10: number | null;
  readonly p25: number | null;
  readonly p50: number | null;
  readonly p75: number | null;
  readonly p90: number | null;
}

/** The p-quantile (0..1) of ascending `sorted`, interpolated like quantile_cont; null when empty. */
export function quantile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * p;
  const below = Math.floor(pos);
  const above = Math.ceil(pos);
  const a = sorted[below]!;
  return a + (sorted[above]! - a) * (pos - below);
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1), null below 2 values. */
export function sampleSd(values: readonly number[]): number | null {
  const m = mean(values);
  if (m === null || values.length < 2) return null;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** The distribution of the values that are not null. */
export function distribution(values: readonly (number | null)[]): Distribution {
  const defined = values.filter((v): v is number => v !== null);
  const sorted = [...defined].sort((a, b) => a - b);
  return {
    n: sorted.length,
    mean: mean(sorted),
    sd: sampleSd(sorted),
    p10: quantile(sorted, 0.1),
    p25: quantile(sorted, 0.25),
    p50: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    p90: quantile(sorted, 0.9),
  };
}

/** Whole-number values (counts, lengths) in bins of a whole `width`: [lower, lower + width). */
export function integerHistogram(
  values: readonly number[],
  maxBins = 40,
): { lower: number; upper: number; count: number }[] {
  if (values.length === 0) return [];
  // A loop, not Math.min(...values): a spread of a few hundred thousand values overflows the stack.
  let lo = values[0]!;
  let hi = lo;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const width = Math.max(1, Math.ceil((hi - lo + 1) / maxBins));
  const counts = new Map<number, number>();
  for (const v of values) {
    const lower = lo + Math.floor((v - lo) / width) * width;
    counts.set(lower, (counts.get(lower) ?? 0) + 1);
  }
  const out: { lower: number; upper: number; count: number }[] = [];
  for (let lower = lo; lower <= hi; lower += width)
    out.push({ lower, upper: lower + width, count: counts.get(lower) ?? 0 });
  return out;
}
