// Histogram bins for latencies that respect the data's resolution. Latencies are counted at their
// whole millisecond (the Aalto files are whole ms; web-app times are finer, and 1 ms is below any
// bin width worth drawing), and each whole ms goes to a symlog bin: t = sign(n) ln(1 + |n| / C)
// (C = symlogConstant ms) cut into steps of `latencyBinWidth`. A bin is the run of whole ms whose t falls in its step, drawn
// from half a ms below its first to half a ms above its last, so every bin is a whole number of ms
// wide (>= 1), bins touch, and a step no whole ms falls in (were a step under 1 ms wide) is no
// bin at all instead of an empty bar beside an over-full one. Bins then differ in width (2-4 ms
// near zero, ~22 % of the latency beyond ~20 ms), so the chart draws each bin's share per ms of its
// width: a density, smooth where the data is, whatever the grid. (Share per symlog step instead
// would dip to a V at 0 for flat data, since the axis compresses more the further from 0 it gets.)
// Negative values mirror, so IL's rollover (IL < 0) is drawn left of zero; vega's `symlog` scale
// with the same constant uses the same t, so the bars sit where the axis says.

/**
 * C in ms: the axis is nearly linear within ±C and logarithmic beyond. 10 ms makes the steps near
 * zero 2-4 whole ms wide (0.2 x C), enough pairs per bin on a small data set like the samples, where
 * 1 ms bins drew noise; and the axis title's "linear near 0, log beyond ±10 ms" true.
 */
export const symlogConstant = 10;

/**
 * Step in t: bins ~22 % of the latency wide beyond ~20 ms, ~30 bins from 20 ms to 10 s. Wider than
 * 16 ms from ~70 ms on, since some Aalto participants' times come in steps of ~8 or ~16 ms (their
 * browser's timer), which narrower bins would turn into a comb of spikes.
 */
export const latencyBinWidth = 0.2;

/** The whole ms a latency is counted at: the nearest, halves up (the SQL uses the same formula). */
export function gridPoint(ms: number): number {
  return Math.floor(ms + 0.5);
}

/** vega's symlog transform with constant C. */
export function symlog(x: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x) / symlogConstant);
}

function fromSymlog(t: number): number {
  return Math.sign(t) * symlogConstant * Math.expm1(Math.abs(t));
}

/** The bin a latency falls into. */
export function binOf(ms: number): number {
  return Math.floor(symlog(gridPoint(ms)) / latencyBinWidth);
}

/** binOf in SQL, for a DOUBLE column of milliseconds. */
export function binSql(column: string): string {
  const n = `floor(${column} + 0.5)`;
  return `floor(sign(${n}) * ln(1 + abs(${n}) / ${symlogConstant}) / ${latencyBinWidth})::INTEGER`;
}

/**
 * The first and last whole ms of bin `bin`, or null when no whole ms falls in it. From the step's
 * edges in ms, then nudged by binOf itself so rounding in expm1 cannot misplace an edge.
 */
export function binGrid(bin: number): { first: number; last: number } | null {
  let first = Math.ceil(fromSymlog(bin * latencyBinWidth));
  let last = Math.ceil(fromSymlog((bin + 1) * latencyBinWidth)) - 1;
  while (binOf(first - 1) === bin) first--;
  while (first <= last && binOf(first) < bin) first++;
  while (binOf(last + 1) === bin) last++;
  while (last >= first && binOf(last) > bin) last--;
  return first <= last ? { first, last } : null;
}

export interface HistogramBin {
  readonly group: string;
  /** Half a ms below the bin's first whole ms. */
  readonly lower_ms: number;
  /** Half a ms above the bin's last whole ms. */
  readonly upper_ms: number;
  /** upper_ms - lower_ms: how many whole ms the bin holds (>= 1). */
  readonly width_ms: number;
  readonly count: number;
  /** count / all pairs of the group, so groups of very different sizes compare. */
  readonly share: number;
  /** share / width_ms: the density the chart draws, as a share of the group's pairs per ms. */
  readonly share_per_ms: number;
}

/**
 * Counts per (group, bin) -> one contiguous run of bins per group, from its lowest to its highest
 * non-empty bin: empty bins that hold whole ms are included as 0 (a step line drops to zero where
 * there is no data); steps that hold no whole ms are left out (they are not bins).
 */
export function fillBins(
  rows: readonly { grp: string; bin: number; count: number }[],
): HistogramBin[] {
  const byGroup = new Map<string, Map<number, number>>();
  for (const r of rows) {
    const bins = byGroup.get(r.grp) ?? new Map<number, number>();
    bins.set(r.bin, (bins.get(r.bin) ?? 0) + r.count);
    byGroup.set(r.grp, bins);
  }
  const out: HistogramBin[] = [];
  for (const group of [...byGroup.keys()].sort()) {
    const bins = byGroup.get(group)!;
    const total = [...bins.values()].reduce((a, b) => a + b, 0);
    const lo = Math.min(...bins.keys());
    const hi = Math.max(...bins.keys());
    for (let bin = lo; bin <= hi; bin++) {
      const grid = binGrid(bin);
      if (grid === null) continue;
      const count = bins.get(bin) ?? 0;
      const lower_ms = grid.first - 0.5;
      const upper_ms = grid.last + 0.5;
      const share = total === 0 ? 0 : count / total;
      out.push({
        group,
        lower_ms,
        upper_ms,
        width_ms: upper_ms - lower_ms,
        count,
        share,
        share_per_ms: share / (upper_ms - lower_ms),
      });
    }
  }
  return out;
}
