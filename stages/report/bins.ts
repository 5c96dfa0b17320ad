// Histogram bins for latencies, in symlog space: t = sign(x) ln(1 + |x|), x in ms. Bins of equal
// width in t are about 28 % wide for latencies over ~10 ms (a log scale, which suits long right
// tails like HL and PL), shrink to linear near zero, and mirror for negative values, so IL's
// rollover (IL < 0) is drawn left of zero instead of being dropped or clipped. vega's `symlog`
// scale with its default constant 1 uses the same transform, so the bars sit where the axis says.

/** Bin width in t = sign(x) ln(1 + |x|). 0.25 gives ~35 bins from 1 ms to 10 s. */
export const latencyBinWidth = 0.25;

function fromSymlog(t: number): number {
  return Math.sign(t) * Math.expm1(Math.abs(t));
}

/** The [lower, upper) edges in ms of symlog bin `bin`. */
export function binEdges(bin: number): { lower_ms: number; upper_ms: number } {
  return {
    lower_ms: fromSymlog(bin * latencyBinWidth),
    upper_ms: fromSymlog((bin + 1) * latencyBinWidth),
  };
}

/** The bin a latency falls into; the same formula as the SQL in queries.ts, for tests and checks. */
export function binOf(ms: number): number {
  return Math.floor((Math.sign(ms) * Math.log1p(Math.abs(ms))) / latencyBinWidth);
}

export interface HistogramBin {
  readonly group: string;
  readonly lower_ms: number;
  readonly upper_ms: number;
  readonly count: number;
  /** count / all pairs of the group, so groups of very different sizes compare. */
  readonly share: number;
}

/**
 * Counts per (group, bin) -> one contiguous run of bins per group, from its lowest to its highest
 * non-empty bin, empty bins included as 0 so a step line drops to zero where there is no data.
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
      const count = bins.get(bin) ?? 0;
      out.push({ group, ...binEdges(bin), count, share: count / total });
    }
  }
  return out;
}
