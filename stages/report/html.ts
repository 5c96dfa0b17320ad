// The self-contained page: inline CSS and inline SVG, no script, no external URL, so it opens
// from disk offline. Every number comes from the summary (summary.ts).
import type { Chart } from './charts.js';
import { dec, escapeHtml, figure, int, pct, table } from './html-parts.js';
import {
  backspaceSection,
  digraphSection,
  sessionsSection,
  spreadSection,
} from './html-sections.js';
import type { ReportSummary } from './summary.js';
import type { TypingStats } from './stats.js';

const css = `
body { font: 15px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; color: #222; margin: 0 auto; max-width: 1000px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; }
p.meta, p.note { color: #555; font-size: 13px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: 12px; }
figure.chart { margin: 8px 0 16px; } figure.chart svg { max-width: 100%; height: auto; }
.reference { color: #a33; } .iqr { color: #777; } ul.reading { font-size: 14px; }`;

function typingTable(s: ReportSummary): string {
  const sources = Object.keys(s.typing.by_source);
  const cols: [string, TypingStats][] = [
    ['this data set', s.typing.all],
    ...sources.map((k) => [k, s.typing.by_source[k]!] as [string, TypingStats]),
  ];
  const ref = s.typing.reference;
  const row = (label: string, pick: (t: TypingStats) => string, reference: string) => [
    label,
    ...cols.map(([, t]) => pick(t)),
    `<span class="reference">${reference}</span>`,
  ];
  return table(
    [
      'mean of participant means',
      ...cols.map(([c]) => c),
      `reference: Dhakal et al. 2018 (${int(ref.participants)} participants)`,
    ],
    [
      row('participants', (t) => int(t.participants), int(ref.participants)),
      row('words per minute', (t) => dec(t.wpm), dec(ref.wpm)),
      row('inter-key interval, press to press (ms)', (t) => dec(t.iki_ms), dec(ref.iki_ms)),
      row('hold time (ms)', (t) => dec(t.hold_ms), dec(ref.hold_ms)),
      row('rollover ratio', (t) => pct(t.rollover), pct(ref.rollover, 0)),
    ],
  );
}

function lockSection(s: ReportSummary): string {
  switch (s.lock.status) {
    case 'absent':
      return '<p class="note">No pipeline.lock yet: these outputs were not built by <code>pipe build</code>.</p>';
    case 'unreadable':
      return `<p class="note">pipeline.lock could not be read: ${escapeHtml(s.lock.reason)}</p>`;
    case 'read':
      return table(
        ['stage', 'fingerprint (pipeline.lock)'],
        Object.entries(s.lock.fingerprints).map(([k, v]) => [
          escapeHtml(k),
          `<code>${escapeHtml(v)}</code>`,
        ]),
        2,
      );
  }
}

/** "Compared with version X": per stage files added, removed, changed, and record counts before -> after. */
function versionSection(s: ReportSummary): string {
  const d = s.version_diff;
  switch (d.status) {
    case 'no-remote':
      return '<h2>Compared with the previous version</h2>\n<p class="note">No previous version to compare with: no remote is configured (PIPE_REMOTE).</p>';
    case 'no-previous':
      return `<h2>Compared with the previous version</h2>\n<p class="note">No previous version to compare with: none is published on <code>${escapeHtml(d.remote)}</code> yet.</p>`;
    case 'unavailable':
      return `<h2>Compared with the previous version</h2>\n<p class="note">No comparison: the previous version on <code>${escapeHtml(d.remote)}</code> could not be read (${escapeHtml(d.reason)}).</p>`;
    case 'compared': {
      const count = (n: number | null) => (n === null ? '—' : int(n));
      const rows = d.stages.map((st) => [
        escapeHtml(st.stage) +
          (st.status === 'added' ? ' (new stage)' : st.status === 'removed' ? ' (stage gone)' : ''),
        int(st.added),
        int(st.removed),
        int(st.changed),
        int(st.unchanged),
        st.records
          .map((r) => `${escapeHtml(r.name)} ${count(r.before)} → ${count(r.after)}`)
          .join('<br>'),
      ]);
      const t = d.totals;
      rows.push(['total', int(t.added), int(t.removed), int(t.changed), int(t.unchanged), '']);
      return `<h2 id="version-diff">Compared with version ${escapeHtml(d.previous.id)}</h2>
<p class="note">The newest version on <code>${escapeHtml(d.remote)}</code> when this page was built (pushed by ${escapeHtml(d.previous.pushed_by)} at ${escapeHtml(d.previous.pushed_at)}),
against the outputs this report was built from, i.e. what publishing them changes. Files are compared by sha256; record counts are what each stage reported.
<code>pipe versions diff ${escapeHtml(d.previous.id)} workspace</code> lists the files.</p>
${table(['stage', 'files added', 'removed', 'changed', 'unchanged', 'records before → after'], rows, 1, [5])}`;
    }
  }
}

export function renderPage(s: ReportSummary, charts: readonly Chart[]): string {
  const f = s.funnel;
  const rejectRows = s.rejects.by_rule.map((r) => [
    escapeHtml(r.rule),
    escapeHtml(r.source),
    int(r.count),
    r.examples
      .map(
        (e) =>
          `<code>${escapeHtml(e.source_file)}${e.source_line === null ? '' : `:${e.source_line}`}</code> ${escapeHtml(e.detail ?? '')}`,
      )
      .join('<br>'),
  ]);
  const latencyRows = s.latency.stats.map((r) => [
    r.latency.toUpperCase(),
    escapeHtml(r.grp),
    int(r.n),
    dec(r.mean_ms, 1),
    dec(r.sd_ms, 1),
    dec(r.q25_ms, 1),
    dec(r.median_ms, 1),
    dec(r.q75_ms, 1),
    dec(r.iqr_ms, 1),
    pct(r.negative / r.n),
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Keystroke data report · ${escapeHtml(s.version)}</title><style>${css}</style></head>
<body>
<h1>Keystroke data report</h1>
<p class="meta">Version <strong>${escapeHtml(s.version)}</strong> · built ${escapeHtml(s.built_at)} · every number here is in <code>summary.json</code> beside this page.</p>
${lockSection(s)}

${versionSection(s)}

<h2>Funnel</h2>
${table(
  ['step', 'count'],
  [
    ['uploads (files in data/raw/manifest.json)', int(f.uploads)],
    ['web-app events read', int(f.web_events_in)],
    ['Aalto rows read', int(f.aalto_rows_in)],
    ['keystrokes kept', int(f.keystrokes)],
    ['sessions (typed sentences)', int(f.sessions)],
    ['key pairs', int(f.key_pairs)],
    ['sequences', int(f.sequences)],
  ],
)}
${figure(charts, 'funnel')}

<h2>Rejected by cleaning: ${int(s.rejects.total)}</h2>
${s.rejects.by_rule.length === 0 ? '<p>No row, event or file was rejected.</p>' : table(['rule', 'source', 'count', 'first examples (file:line, detail)'], rejectRows, 2, [3])}
${figure(charts, 'rejects')}

<h2>Latencies by source and platform</h2>
<p class="note">For key i and the next: HL = R<sub>i</sub> − P<sub>i</sub>, IL = P<sub>i+1</sub> − R<sub>i</sub>, PL = P<sub>i+1</sub> − P<sub>i</sub>
= HL + IL, RL = R<sub>i+1</sub> − R<sub>i</sub> (P press, R release, ms), never across sessions. IL is negative when the
next key goes down before this one comes up (rollover, normal typing): those pairs are drawn left of zero, never
dropped or clipped. Histograms on a symlog axis: logarithmic beyond ±10 ms, linear near zero. Each bin holds whole
milliseconds (the data’s resolution): 2–5 ms wide near zero, about 22 % of the latency beyond 20 ms; a line shows the
share of its group’s pairs per ms of the bin’s width (a density, so bins of different widths and groups of
different sizes compare).</p>
${table(['latency', 'source/platform', 'key pairs', 'mean (ms)', 'SD', '25th pct', 'median', '75th pct', 'IQR', 'negative'], latencyRows, 2)}
${figure(charts, 'hl')}${figure(charts, 'il')}${figure(charts, 'pl')}${figure(charts, 'rl')}

${spreadSection(s, charts)}

<h2>Typing, per participant (Dhakal et al., CHI 2018)</h2>
<p class="note">Per sentence, WPM = (length of the typed text − 1) / (last press − first press, s) × 60 / 5, averaged
per participant; IKI is the mean press-to-press interval, hold the mean release − press, rollover the share of key
pairs whose next press comes before the previous release. Columns are means over participants of these
per-participant values. Typed-text length: ${escapeHtml(s.typing.typed_length_method)}
(${int(s.typing.typed_length_sessions.from_text)} sessions from the text, ${int(s.typing.typed_length_sessions.estimated)} estimated). The right column is the
paper’s published result for its ${int(s.typing.reference.participants)} participants, shown as a reference, not computed here.</p>
${typingTable(s)}
${figure(charts, 'wpm')}

${sessionsSection(s, charts)}

${backspaceSection(s, charts)}

<h2>Key frequency</h2>
${figure(charts, 'keys')}

${digraphSection(s, charts)}
<p class="note">Data: “136M Keystrokes”, Dhakal, Feit, Kristensson, Oulasvirta, CHI 2018, doi:10.1145/3173574.3174220 (Aalto University), and the web-app uploads.</p>
</body></html>
`;
}
