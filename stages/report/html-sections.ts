// The page's sections on spread, per-user variability, sessions at M, digraphs and Backspace.
// Every number comes from the summary (summary.ts); docs/report.md defines each one.
import type { Chart } from './charts.js';
import type { Distribution } from './distribution.js';
import { dec, escapeHtml, figure, int, pct, table } from './html-parts.js';
import { latencyNames } from './queries.js';
import type { ReportSummary } from './summary.js';

const ms = (n: number | null) => dec(n, 1);
const spreadCells = (d: Distribution, f: (n: number | null) => string) => [
  f(d.p10),
  f(d.p25),
  f(d.p50),
  f(d.p75),
  f(d.p90),
  f(d.mean),
];

export function spreadSection(s: ReportSummary, charts: readonly Chart[]): string {
  const rows = latencyNames.flatMap((l) => {
    const p = s.latency.per_participant[l];
    const L = l.toUpperCase();
    return [
      [`${L} mean`, ...spreadCells(p.mean_ms, ms)],
      [`${L} SD`, ...spreadCells(p.sd_ms, ms)],
      [`${L} IQR`, ...spreadCells(p.iqr_ms, ms)],
    ];
  });
  const participants = s.latency.per_participant.hl.participants;
  const v = s.latency.variability;
  const varRows = latencyNames.map((l) => [
    l.toUpperCase(),
    ms(v[l].within_sd_ms),
    ms(v[l].between_sd_ms),
    dec(v[l].ratio),
    ms(v[l].within_session_means_sd_ms),
    dec(v[l].session_ratio),
  ]);
  return `<h2 id="spread">Spread per participant</h2>
<p class="note">For each of the ${int(participants)} participants with at least two key pairs: the mean, the standard deviation (SD)
and the interquartile range (IQR, 75th − 25th percentile) of each latency over all their key pairs. The columns
say how these per-participant values spread over participants (percentiles and mean), so a typical participant’s
spread reads in the p50 column.</p>
${table(['participant’s …', 'p10', 'p25', 'median', 'p75', 'p90', 'mean'], rows)}
${figure(charts, 'spread')}
<h3>Within-user vs between-user spread: what makes users separable</h3>
<p class="note">Within-user: the mean over participants of the SD of their own key pairs (keystroke level), or of
their session means (one mean per typed sentence; participants with two or more sessions). Between-user: the SD of
the participants’ means. A ratio between / within above 1 means participants differ more than one participant
varies.</p>
${table(['latency', 'within-user SD, pairs (ms)', 'between-user SD (ms)', 'ratio', 'within-user SD, session means (ms)', 'ratio'], varRows)}
<ul class="reading">
${latencyNames
  .filter((l) => l === 'hl' || l === 'pl')
  .map((l) => `<li>${escapeHtml(v[l].reading)}</li>`)
  .join('\n')}
</ul>`;
}

export function sessionsSection(s: ReportSummary, charts: readonly Chart[]): string {
  const ft = s.features;
  const fit = s.sessions.sequence_fit;
  const len = s.sessions.lengths.keystrokes;
  const spu = s.sessions_per_user;
  const perUser = s.sessions.sessions_per_user_varies
    ? figure(charts, 'sessions')
    : spu.length === 1
      ? `<p class="note">Every participant has ${int(spu[0]!.sessions)} session${spu[0]!.sessions === 1 ? '' : 's'}, so there is no chart of sessions per participant.</p>`
      : '';
  return `<h2 id="sessions">Sessions and sequences</h2>
<p class="note">A session is one typed sentence. Keystrokes per session over all ${int(s.sessions.lengths.sessions)} sessions:
median ${ms(len.p50)} (10th–90th percentile ${ms(len.p10)}–${ms(len.p90)}, mean ${ms(len.mean)}).
A session of N keystrokes has N − 1 key pairs, and a TypeNet sequence holds M = ${int(fit.M)} of them: features keeps
the first M of a longer session (truncated) and pads a shorter one with zero rows.</p>
${figure(charts, 'lengths')}
${table(
  ['', 'value'],
  [
    ['sequence length M (key pairs)', int(fit.M)],
    ['minimum sessions per participant', int(ft.min_sessions_per_user)],
    ['participants kept', int(ft.users_kept)],
    ['participants dropped (too few sessions)', int(ft.users_dropped)],
    ['sequences (sessions of kept participants)', int(fit.sessions)],
    ['truncated at M (more than M pairs)', `${int(fit.truncated)} (${pct(fit.truncated_share)})`],
    ['padded up to M (fewer than M pairs)', `${int(fit.padded)} (${pct(fit.padded_share)})`],
    ['exactly M pairs', int(fit.exact)],
    ['key pairs cut off by truncation', pct(fit.pairs_cut_share)],
    ['share of padding rows in the sequences', pct(fit.padding_share)],
  ],
)}
${perUser}`;
}

export function digraphSection(s: ReportSummary, charts: readonly Chart[]): string {
  if (s.digraphs.top.length === 0) return '';
  const q = (x: { q25_ms: number; median_ms: number; q75_ms: number }) =>
    `${ms(x.median_ms)} <span class="iqr">(${ms(x.q25_ms)}–${ms(x.q75_ms)})</span>`;
  const rows = s.digraphs.top.map((d) => [
    escapeHtml(d.label),
    `${d.keycode1} → ${d.keycode2}`,
    int(d.count),
    pct(d.share, 2),
    q(d.hl),
    q(d.il),
    q(d.pl),
    q(d.rl),
  ]);
  return `<h2 id="digraphs">The most frequent key pairs (digraphs)</h2>
<p class="note">Consecutive keys within a session, by keyCode; each latency as median (25th–75th percentile) in ms over
the pair’s occurrences. HL is the first key’s hold.</p>
${table(['keys', 'keyCodes', 'pairs', 'share of pairs', 'HL', 'IL', 'PL', 'RL'], rows, 2)}
${figure(charts, 'digraphs')}`;
}

export function backspaceSection(s: ReportSummary, charts: readonly Chart[]): string {
  const b = s.backspace;
  const d = b.per_participant;
  return `<h2 id="backspace">Backspace per participant</h2>
<p class="note">Backspace (keyCode 8 in both formats: <code>BKSP</code> in the Aalto files, <code>Backspace</code> in the web app)
as a share of each participant’s keystrokes, a measure of how many errors they corrected. Over all keystrokes:
${pct(b.overall, 2)}. Per participant: median ${pct(d.p50, 2)} (10th–90th percentile ${pct(d.p10, 2)}–${pct(d.p90, 2)},
mean ${pct(d.mean, 2)}); ${int(b.participants_without)} of ${int(b.participants)} participants never pressed it.</p>
${figure(charts, 'backspace')}`;
}
