// The page's charts: Vega-Lite specs built from the summary, compiled by vega-lite and rendered to
// SVG strings by vega's headless view at build time, so the page needs no script and no network.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { latencySpec } from './latency-chart.js';
import { latencyNames } from './queries.js';
import { digraphSpec, histogramSpec, participantSpreadSpec } from './spread-charts.js';
import { keyLabel, type ReportSummary } from './summary.js';

export interface Chart {
  readonly id: string;
  readonly svg: string;
}

/**
 * One explicit font and fixed sizes: vega measures text without a browser by estimating widths
 * from the font size, so fixed sizes plus label limits and overlap removal keep labels apart.
 */
const config = {
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  background: 'white',
  padding: 8,
  title: { fontSize: 14, fontWeight: 'bold', anchor: 'start', offset: 10 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titlePadding: 8,
    labelOverlap: true,
    labelLimit: 400,
  },
  // Legends sit right of the plot (vega's default), never over the data.
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260, titleLimit: 260 },
  view: { stroke: null },
} as const;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile({ ...spec, config } as TopLevelSpec).spec), {
    renderer: 'none',
  });
  const svg = await view.toSVG();
  view.finalize();
  // Inline SVG in HTML needs no namespace declarations; dropping them keeps the page free of URLs.
  return svg.replace(/ xmlns(:xlink)?="[^"]*"/g, '');
}

/** Horizontal bars; `counts` makes the axis whole numbers only. */
function barSpec(
  title: string,
  values: object[],
  x: { field: string; title: string; counts?: boolean },
  y: { field: string; title: string | null; sort?: boolean },
): TopLevelSpec {
  return {
    title,
    width: 620,
    height: Math.max(120, values.length * 18),
    data: { values },
    mark: { type: 'bar', color: '#4c78a8' },
    encoding: {
      y: {
        field: y.field,
        type: 'nominal',
        sort: y.sort === false ? null : '-x',
        axis: { title: y.title },
      },
      x: {
        field: x.field,
        type: 'quantitative',
        axis: {
          title: x.title,
          format: x.counts ? ',d' : ',',
          ...(x.counts ? { tickMinStep: 1 } : {}),
        },
      },
    },
  } as TopLevelSpec;
}

/**
 * The funnel on a log axis (its steps differ by orders of magnitude). Bars start at 1, since a
 * log scale has no 0, and carry their count as a label so a count of 1 still reads.
 */
function funnelSpec(values: { step: string; n: number }[]): TopLevelSpec {
  const y = { field: 'step', type: 'nominal', sort: null, axis: { title: null } };
  return {
    title: 'From uploads to sequences',
    width: 560,
    height: values.length * 24,
    data: { values },
    encoding: { y },
    layer: [
      {
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: {
            field: 'n',
            type: 'quantitative',
            scale: { type: 'log', domainMin: 1 },
            axis: { title: 'count (log scale)', format: ',d' },
          },
          x2: { datum: 1 },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: {
          x: { field: 'n', type: 'quantitative' },
          text: { field: 'n', type: 'quantitative', format: ',d' },
        },
      },
    ],
  } as TopLevelSpec;
}

export async function renderCharts(s: ReportSummary): Promise<Chart[]> {
  const f = s.funnel;
  const funnel = [
    { step: 'uploads', n: f.uploads },
    { step: 'web events + Aalto rows read', n: f.web_events_in + f.aalto_rows_in },
    { step: 'keystrokes kept', n: f.keystrokes },
    { step: 'sessions', n: f.sessions },
    { step: 'key pairs', n: f.key_pairs },
    { step: 'sequences', n: f.sequences },
  ].filter((d) => d.n > 0); // a log axis cannot place 0; the table beside it shows every count
  const specs: [string, TopLevelSpec][] = [['funnel', funnelSpec(funnel)]];
  if (s.rejects.by_rule.length > 0) {
    const rules = s.rejects.by_rule.map((r) => ({ rule: `${r.rule} (${r.source})`, n: r.count }));
    specs.push([
      'rejects',
      barSpec(
        // The axis names itself in the chart title: a rotated y title beside long rule names ran
        // into them in Chromium (vega places it from estimated label widths).
        'Rejected rows per rule (source)',
        rules,
        { field: 'n', title: 'rows, events or files rejected', counts: true },
        { field: 'rule', title: null },
      ),
    ]);
  }
  // A chart without data would be an empty frame: leave it out (the tables still say 0).
  for (const name of latencyNames) {
    if (s.latency.histograms[name].length > 0)
      specs.push([name, latencySpec(name, s.latency.histograms[name])]);
  }
  if (s.latency.per_participant.hl.participants > 0)
    specs.push(['spread', participantSpreadSpec(s)]);
  if (s.typing.wpm_histogram.length > 0) specs.push(['wpm', wpmSpec(s)]);
  const lengths = s.sessions.lengths;
  if (lengths.histogram.length > 0)
    specs.push([
      'lengths',
      histogramSpec({
        title: 'Keystrokes per session (one typed sentence)',
        values: lengths.histogram,
        xTitle: 'keystrokes in the session',
        yTitle: 'sessions',
        // A session of N keystrokes has N - 1 key pairs: beyond M + 1 keystrokes it is truncated.
        rule: {
          at: s.sessions.sequence_fit.M + 1,
          label: `truncated beyond M + 1 = ${s.sessions.sequence_fit.M + 1}`,
        },
      }),
    ]);
  // One bar says nothing when every participant has the same number of sessions: the page says so.
  const spu = s.sessions_per_user.map((d) => ({ sessions: String(d.sessions), users: d.users }));
  if (s.sessions.sessions_per_user_varies)
    specs.push([
      'sessions',
      barSpec(
        'Sessions per participant',
        spu,
        { field: 'users', title: 'participants', counts: true },
        { field: 'sessions', title: 'sessions', sort: false },
      ),
    ]);
  const keys = s.key_frequency.top.map((k) => ({
    key: `${keyLabel(k.key)} · ${k.keycode}`,
    pct: k.share * 100,
  }));
  if (keys.length > 0)
    specs.push([
      'keys',
      barSpec(
        `The ${keys.length} most frequent keys`,
        keys,
        { field: 'pct', title: 'share of all keystrokes (%)' },
        { field: 'key', title: 'key · keyCode' },
      ),
    ]);
  if (s.digraphs.top.length > 0) specs.push(['digraphs', digraphSpec(s)]);
  const bs = s.backspace;
  if (bs.participants > 0)
    specs.push([
      'backspace',
      histogramSpec({
        title: 'Backspace share of each participant’s keystrokes',
        values: bs.histogram.map((b) => ({
          lower: b.lower_pct,
          upper: b.upper_pct,
          count: b.participants,
        })),
        xTitle: '% of the participant’s keystrokes that are Backspace (1 % bins)',
        yTitle: 'participants',
      }),
    ]);
  return Promise.all(specs.map(async ([id, spec]) => ({ id, svg: await renderSvg(spec) })));
}

function wpmSpec(s: ReportSummary): TopLevelSpec {
  const rules: { label: string; wpm: number }[] = [
    { label: `Dhakal et al. mean ${s.typing.reference.wpm}`, wpm: s.typing.reference.wpm },
  ];
  if (s.typing.all.wpm !== null)
    rules.push({ label: `this data set ${s.typing.all.wpm.toFixed(2)}`, wpm: s.typing.all.wpm });
  return {
    title: 'Words per minute, one value per participant',
    width: 620,
    height: 200,
    layer: [
      {
        data: { values: s.typing.wpm_histogram },
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: {
          x: {
            field: 'lower_wpm',
            type: 'quantitative',
            bin: { binned: true, step: 10 },
            axis: { title: 'mean WPM of the participant’s sentences' },
          },
          x2: { field: 'upper_wpm' },
          y: {
            field: 'users',
            type: 'quantitative',
            axis: { title: 'participants', tickMinStep: 1, format: ',d' },
          },
        },
      },
      {
        data: { values: rules },
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: 'wpm', type: 'quantitative' },
          color: {
            field: 'label',
            type: 'nominal',
            title: 'mean of participant means',
            scale: { range: ['#e45756', '#222222'] },
          },
        },
      },
    ],
  } as TopLevelSpec;
}
