// The latency histogram's bins respect the data's resolution (whole milliseconds), and the axis
// ticks of the latency charts leave room for their labels. Property tests run on many seeded
// random data sets; the regression test uses IL values shaped like the real Aalto data. Expected
// values come from counting the integers themselves, not from the binning code.
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import {
  binGrid,
  binOf,
  binSql,
  fillBins,
  gridPoint,
  latencyBinWidth,
  symlogConstant,
  type HistogramBin,
} from '../stages/report/bins.js';
import { symlogTicks, tickLabel } from '../stages/report/latency-chart.js';
import { seededRandom } from './helpers/seeded-random.js';

/** Standard normal by Box-Muller. */
function normal(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function histogramOf(values: readonly number[], grp = 'g'): HistogramBin[] {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(binOf(v), (counts.get(binOf(v)) ?? 0) + 1);
  return fillBins([...counts].map(([bin, count]) => ({ grp, bin, count })));
}

describe('latency bins on whole milliseconds', () => {
  it('are whole ms wide (>= 1), edged half-way between whole ms, and touch', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rand = seededRandom(seed);
      // Integer data over a random range, from a few ms to minutes, often straddling 0 (IL).
      const lo = -Math.floor(rand() ** 3 * 20_000);
      const hi = Math.floor(rand() ** 3 * 200_000) + 1;
      const values = Array.from({ length: 300 }, () => lo + Math.floor(rand() * (hi - lo + 1)));
      const bins = histogramOf(values);
      for (const [i, b] of bins.entries()) {
        expect(Number.isInteger(b.width_ms) && b.width_ms >= 1, `seed ${seed}`).toBe(true);
        expect(b.upper_ms - b.lower_ms).toBe(b.width_ms);
        expect(Number.isInteger(b.lower_ms + 0.5), `seed ${seed}: edge ${b.lower_ms}`).toBe(true);
        if (i > 0) expect(bins[i - 1]!.upper_ms).toBe(b.lower_ms);
      }
      // Every value lies inside the bin drawn for it, and the counts add up.
      expect(bins.reduce((a, b) => a + b.count, 0)).toBe(values.length);
      for (const v of values.slice(0, 50)) {
        const holding = bins.filter((b) => b.lower_ms <= v && v < b.upper_ms);
        expect(holding).toHaveLength(1);
      }
    }
  });

  it('leaves no bin empty because of the grid: one value at every whole ms fills each bin with its width', () => {
    // Every integer from lo to hi once: a bin holding k whole ms must count exactly k, whatever
    // its place on the symlog scale (the old bins, narrower than 1 ms near 0, counted 0 or 2).
    for (const [lo, hi] of [
      [-40, 40],
      [-1000, 5000],
      [0, 20_000],
      [-6325, 61_000],
    ] as const) {
      const values = Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
      const bins = histogramOf(values);
      // The first and last bin may reach beyond lo and hi: they hold fewer than their width.
      for (const b of bins.slice(1, -1))
        expect(b.count, `bin ${b.lower_ms}..${b.upper_ms}`).toBe(b.width_ms);
      expect(bins[0]!.lower_ms).toBeLessThanOrEqual(lo - 0.5);
      expect(bins.at(-1)!.upper_ms).toBeGreaterThanOrEqual(hi + 0.5);
      expect(bins.length).toBeGreaterThan(10);
    }
  });

  it('counts a fractional latency at its nearest whole ms', () => {
    // Web-app times are finer than 1 ms: 2.4 counts at 2, 2.5 and 2.6 at 3, -2.5 at -2 (halves up).
    expect([2.4, 2.5, 2.6, -2.5, -2.6].map(gridPoint)).toEqual([2, 3, 3, -2, -3]);
    for (const ms of [-6325.7, -20.2, -0.4, 0.49, 9.5, 116.3, 61_000.9]) {
      const grid = binGrid(binOf(ms))!;
      expect(grid.first - 0.5).toBeLessThanOrEqual(ms);
      expect(ms).toBeLessThan(grid.last + 0.5);
    }
  });

  it('has bins a few ms wide near zero and steps of the symlog width further out', () => {
    // By hand: ln(1 + n / 10) / 0.2 for n = 0..13 is 0, 0.48, 0.91, 1.31, 1.68, 2.03, 2.35, 2.65,
    // 2.94, 3.21, 3.47, 3.71, 3.94, 4.16: bins {0, 1, 2}, {3, 4}, {5..8}, {9..12}, then 13 on.
    // Negative: -1 and -2 in step -1 (t -0.48, -0.91), -3 in step -2 (t -1.31).
    expect(latencyBinWidth).toBe(0.2);
    expect(symlogConstant).toBe(10);
    expect([0, 1, 2, 3, 4, 5, 8, 9, 12, 13].map(binOf)).toEqual([0, 0, 0, 1, 1, 2, 2, 3, 3, 4]);
    expect([1, 2, 3].map((n) => binGrid(n))).toEqual([
      { first: 3, last: 4 },
      { first: 5, last: 8 },
      { first: 9, last: 12 },
    ]);
    expect(binGrid(-1)).toEqual({ first: -2, last: -1 });
    // -20 ms: -ln(3) / 0.2 = -5.49 -> step -6, which holds the n with ln(1 + n / 10) / 0.2 in (5, 6]:
    // 17 -> 4.97 (no), 18 -> 5.15, ..., 23 -> 5.97, 24 -> 6.12 (no): -23..-18.
    expect(binGrid(binOf(-20))).toEqual({ first: -23, last: -18 });
  });

  it('bins IL like the real data smoothly between -5 and 20 ms (regression)', () => {
    // 200,000 whole-ms IL values shaped like the Aalto data: 85 % typing gaps around 110 ms, 15 %
    // rollovers around -40 ms, rounded to whole ms. A smooth density must give a smooth line: the
    // old bins (narrower than 1 ms near 0) alternated between empty and double-full here.
    const rand = seededRandom(42);
    const values = Array.from({ length: 200_000 }, () =>
      Math.round(rand() < 0.15 ? -40 + 30 * normal(rand) : 110 + 70 * normal(rand)),
    );
    const bins = histogramOf(values).filter((b) => b.upper_ms > -5 && b.lower_ms < 20);
    expect(bins.length).toBeGreaterThanOrEqual(6);
    for (const b of bins) expect(b.count, `bin ${b.lower_ms}..${b.upper_ms}`).toBeGreaterThan(0);
    // The density there is nearly flat (~450 values per ms, +-5 % noise): neighbouring bins' drawn
    // heights (share per ms) differ by less than 25 %.
    for (let i = 1; i < bins.length; i++) {
      const ratio = bins[i]!.share_per_ms / bins[i - 1]!.share_per_ms;
      expect(ratio, `${bins[i - 1]!.lower_ms} -> ${bins[i]!.lower_ms}`).toBeGreaterThan(0.8);
      expect(ratio).toBeLessThan(1.25);
    }
  });

  it('bins in DuckDB exactly as in TypeScript', async () => {
    // The report bins in SQL (binSql) and draws edges from binGrid: both must put every value in
    // the same bin. Every whole ms in +-100,000 plus fractional values, computed by DuckDB.
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      const reader = await conn.runAndReadAll(`
        SELECT ms, ${binSql('ms')} AS bin FROM (
          SELECT i::DOUBLE AS ms FROM range(-100000, 100001) t(i)
          UNION ALL SELECT i / 10 AS ms FROM range(-2000, 2001) t(i))`);
      const rows = reader.getRowObjectsJson() as { ms: number; bin: number }[];
      expect(rows).toHaveLength(200_001 + 4001);
      const differ = rows.filter((r) => r.bin !== binOf(r.ms));
      expect(differ).toEqual([]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});

describe('latency axis ticks', () => {
  /** Pixel position on vega's symlog scale (constant 10) over [lo, hi] drawn 620 px wide. */
  const px = (v: number, lo: number, hi: number) => {
    const t = (x: number) => Math.sign(x) * Math.log1p(Math.abs(x) / 10);
    return ((t(v) - t(lo)) / (t(hi) - t(lo))) * 620;
  };

  it('leave at least 12 px between labels 7.5 px a character wide, on any range', () => {
    const rand = seededRandom(7);
    for (let i = 0; i < 300; i++) {
      const lo = -Math.floor(rand() ** 2 * 50_000) - 0.5;
      const hi = Math.floor(rand() ** 2 * 5_000_000) + 1.5;
      const ticks = symlogTicks(lo, hi);
      expect(ticks.length, `${lo}..${hi}`).toBeGreaterThanOrEqual(2);
      for (let k = 1; k < ticks.length; k++) {
        const a = ticks[k - 1]!;
        const b = ticks[k]!;
        const room = px(b, lo, hi) - px(a, lo, hi);
        const need = ((tickLabel(a).length + tickLabel(b).length) * 7.5) / 2 + 12;
        expect(room, `${a} / ${b} on ${lo}..${hi}`).toBeGreaterThanOrEqual(need);
      }
    }
  });

  it('keep round values: 0, then powers of ten, then 5s and 2s where there is room', () => {
    const ticks = symlogTicks(-1000.5, 100_000.5);
    expect(ticks).toContain(0);
    for (const t of [-1000, -100, -10, 10, 100, 1000, 10_000, 100_000]) expect(ticks).toContain(t);
    expect(ticks.every((t) => /^-?[125]0*$/.test(String(t)) || t === 0)).toBe(true);
    expect(tickLabel(-1000)).toBe('−1,000');
  });
});
