// Charts of spread: boxes (25th-75th percentile, median tick, whiskers to the 10th and 90th) drawn
// from numbers the summary already holds, and histograms of whole-number counts. vega-lite's own
// boxplot would need every value in the spec; these need five numbers a row.
import type { TopLevelSpec } from 'vega-lite';
import type { ReportSummary } from './summary.js';
import { latencyNames } from './queries.js';

export interface BoxRow {
  readonly label: string;
  readonly p10?: number | null;
  readonly p25: number | null;
  readonly p50: number | null;
  readonly p75: number | null;
  readonly p90?: number | null;
}

export function boxSpec(title: string, rows: readonly BoxRow[], xTitle: string): TopLevelSpec {
  const values = rows.filter((r) => r.p25 !== null && r.p50 !== null && r.p75 !== null);
  const y = { field: 'label', type: 'nominal', sort: null, axis: { title: null } };
  const whiskers = values.some((r) => r.p10 != null && r.p90 != null);
  return {
    title,
    width: 560,
    height: Math.max(60, values.length * 22),
    data: { values },
    encoding: { y },
    layer: [
      ...(whiskers
        ? [
            {
              mark: { type: 'rule', color: '#888' },
              encoding: { x: { field: 'p10', type: 'quantitative' }, x2: { field: 'p90' } },
            },
          ]
        : []),
      {
        mark: { type: 'bar', color: '#9ecae9', height: 12 },
        encoding: {
          x: { field: 'p25', type: 'quantitative', axis: { title: xTitle, format: ',~f' } },
          x2: { field: 'p75' },
        },
      },
      {
        mark: { type: 'tick', color: '#1f4e79', thickness: 2, size: 14 },
        encoding: { x: { field: 'p50', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** Per latency, the participants' SD and IQR as boxes over participants. */
export function participantSpreadSpec(s: ReportSummary): TopLevelSpec {
  const rows: BoxRow[] = latencyNames.flatMap((l) => {
    const p = s.latency.per_participant[l];
    return [
      { label: `${l.toUpperCase()} · SD`, ...p.sd_ms },
      { label: `${l.toUpperCase()} · IQR`, ...p.iqr_ms },
    ];
  });
  return boxSpec(
    'How much one participant’s latencies vary (one value per participant)',
    rows,
    'ms (box: 25th–75th percentile of participants, tick: median, line: 10th–90th)',
  );
}

/** Per digraph, the quartiles of PL and IL. */
export function digraphSpec(s: ReportSummary): TopLevelSpec {
  const rows: BoxRow[] = s.digraphs.top.flatMap((d) => [
    { label: `${d.label} · PL`, p25: d.pl.q25_ms, p50: d.pl.median_ms, p75: d.pl.q75_ms },
    { label: `${d.label} · IL`, p25: d.il.q25_ms, p50: d.il.median_ms, p75: d.il.q75_ms },
  ]);
  return boxSpec(
    `PL and IL of the ${s.digraphs.top.length} most frequent key pairs`,
    rows,
    'ms (box: 25th–75th percentile of the pair’s occurrences, tick: median)',
  );
}

/** Bars over [lower, upper) bins with an optional dashed rule and its label in the legend. */
export function histogramSpec(o: {
  title: string;
  values: readonly { lower: number; upper: number; count: number }[];
  xTitle: string;
  yTitle: string;
  rule?: { at: number; label: string };
}): TopLevelSpec {
  const bars = {
    data: { values: o.values },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      x: {
        field: 'lower',
        type: 'quantitative',
        bin: { binned: true },
        axis: { title: o.xTitle, tickMinStep: 1, format: ',d' },
      },
      x2: { field: 'upper' },
      y: {
        field: 'count',
        type: 'quantitative',
        axis: { title: o.yTitle, tickMinStep: 1, format: ',d' },
      },
    },
  };
  const layer: object[] = [bars];
  if (o.rule !== undefined)
    layer.push({
      data: { values: [{ at: o.rule.at, label: o.rule.label }] },
      mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
      encoding: {
        x: { field: 'at', type: 'quantitative' },
        color: {
          field: 'label',
          type: 'nominal',
          title: null,
          scale: { range: ['#e45756'] },
        },
      },
    });
  return { title: o.title, width: 620, height: 200, layer } as TopLevelSpec;
}
