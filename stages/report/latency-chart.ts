// The latency histograms: one step line per source/platform group on a symlog axis (bins.ts), and
// the axis ticks, chosen here rather than by vega so their labels never collide: vega estimates
// text widths without a browser, and on a wide IL range (-1,000 to 100,000 ms) its labels ran into
// each other. Ticks are placed by their pixel position on the axis, roundest values first.
import type { TopLevelSpec } from 'vega-lite';
import { symlog, symlogConstant, type HistogramBin } from './bins.js';
import type { LatencyName } from './queries.js';

export const latencyChartWidth = 620;

const latencyTitles: Record<LatencyName, string> = {
  hl: 'HL, hold latency (release − press of a key)',
  il: 'IL, inter-key latency (next press − this release; negative = rollover)',
  pl: 'PL, press latency (next press − this press)',
  rl: 'RL, release latency (next release − this release)',
};

/** How vega writes a tick with format ',': thousands commas, U+2212 for minus. */
export function tickLabel(value: number): string {
  return value.toLocaleString('en-US').replace('-', '−');
}

/**
 * A generous width for a tick label at 11 px: DejaVu Sans digits are 7.0 px wide, the minus sign
 * 9.2 px, a comma 3.5 px; 7.5 px a character over-estimates all of them.
 */
function labelWidth(value: number): number {
  return tickLabel(value).length * 7.5;
}

/** Space kept between two neighbouring labels, px. */
const labelGap = 12;

/**
 * Ticks on a symlog axis over [lo, hi] drawn `width` px wide: 0, then ±10^k, then ±5·10^k, then
 * ±2·10^k, each kept only if its label's box (estimated generously) keeps `labelGap` px from every
 * label kept before it. Sorted ascending.
 */
export function symlogTicks(lo: number, hi: number, width = latencyChartWidth): number[] {
  const span = symlog(hi) - symlog(lo);
  if (!(span > 0)) return [];
  const px = (v: number) => ((symlog(v) - symlog(lo)) / span) * width;
  const candidates = [0];
  for (const m of [1, 5, 2]) for (let p = 1; p <= 1e9; p *= 10) candidates.push(m * p, -m * p);
  const kept: number[] = [];
  for (const v of candidates) {
    if (v < lo || v > hi) continue;
    const clear = kept.every(
      (k) => Math.abs(px(k) - px(v)) >= (labelWidth(k) + labelWidth(v)) / 2 + labelGap,
    );
    if (clear) kept.push(v);
  }
  return kept.sort((a, b) => a - b);
}

export function latencySpec(name: LatencyName, bins: readonly HistogramBin[]): TopLevelSpec {
  // One point per bin at its lower edge plus a closing point, drawn as a step line: the
  // histogram of each group as a staircase, so several groups overlay and stay readable.
  const points = bins.flatMap((b, i) => {
    const next = bins[i + 1];
    const last = next === undefined || next.group !== b.group;
    const p = { group: b.group, ms: b.lower_ms, pct: b.share_per_ms * 100 };
    return last ? [p, { group: b.group, ms: b.upper_ms, pct: 0 }] : [p];
  });
  const lo = Math.min(...bins.map((b) => b.lower_ms));
  const hi = Math.max(...bins.map((b) => b.upper_ms));
  return {
    title: latencyTitles[name],
    width: latencyChartWidth,
    height: 220,
    data: { values: points },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.8 },
    encoding: {
      x: {
        field: 'ms',
        type: 'quantitative',
        scale: {
          type: 'symlog',
          constant: symlogConstant,
          domain: [lo, hi],
          nice: false,
          zero: false,
        },
        axis: {
          title: `${name.toUpperCase()} (ms, symlog scale: linear near 0, log beyond ±10 ms)`,
          values: symlogTicks(lo, hi),
          // A symlog axis formats ticks in exponent form (1e+2); people read 100.
          labelExpr: "format(datum.value, ',')",
        },
      },
      // A short title: a rotated title longer than the plot is tall pushes the plot down.
      y: {
        field: 'pct',
        type: 'quantitative',
        axis: { title: '% of the group’s pairs per ms' },
      },
      color: { field: 'group', type: 'nominal', title: 'source/platform' },
    },
  } as TopLevelSpec;
}
