// The report stage as the runner starts it, on the hand-written tables of report-fixture.ts:
//
//   data/raw/manifest.json ─┐
//   data/clean/*  ──────────┼─▶ report ─▶ reports/index.html + reports/summary.json
//   data/keypairs/* ────────┤
//   data/features/* ────────┘   (pipeline.lock read, not a dep)
//
// Every expected number is derived by hand from the fixture's rows in the comments.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportSummary } from '../stages/report/summary.js';
import { escapeHtml } from '../stages/report/html-parts.js';
import {
  keypairsOf,
  keystrokes,
  lockWith,
  pageCharts,
  writeReportInputs,
} from './report-fixture.js';
import { runReportStage, tempWorkspace, type StageRun } from './report-run.js';

const [fpClean, fpFeatures, fpReport] = ['c', 'f', 'e'].map((c) => c.repeat(64)) as [
  string,
  string,
  string,
];
const lock = lockWith({ clean: fpClean, features: fpFeatures, report: fpReport });

describe('report stage on hand-written tables', () => {
  let ws: string;
  let run: StageRun;
  let s: ReportSummary;
  let html: string;

  beforeAll(async () => {
    ws = tempWorkspace();
    await writeReportInputs(ws, { lock });
    run = runReportStage(ws, { PIPE_VERSION: '2026-11-26_12-00-00_host-ana' });
    expect(run.status, run.stderr).toBe(0);
    s = JSON.parse(readFileSync(join(run.outDir, 'summary.json'), 'utf8')) as ReportSummary;
    html = readFileSync(join(run.outDir, 'index.html'), 'utf8');
  });
  afterAll(() => rmSync(ws, { recursive: true, force: true }));

  it('writes only into the temp out it was given', () => {
    expect(existsSync(join(ws, 'reports'))).toBe(false);
    expect(JSON.parse(readFileSync(run.metricsFile, 'utf8'))).toEqual({
      records: { charts: 13, participants: 3 },
    });
  });

  it('counts the funnel', () => {
    // 3 manifest files; 40 events and 9 rows from clean's summary; 13 keystroke rows in 4 sessions
    // (s1: 6, s2: 2, a1: 4, m1: 1); pairs = (6-1) + (2-1) + (4-1) + (1-1) = 9; 2 sessions in sequences.
    expect(s.funnel).toEqual({
      uploads: 3,
      web_events_in: 40,
      aalto_rows_in: 9,
      keystrokes: 13,
      sessions: 4,
      key_pairs: 9,
      sequences: 2,
    });
  });

  it('groups rejects by rule with the first examples in file order', () => {
    // hold_negative: 4 rows (lines 300, 237, 400, 12) -> examples lines 12, 237, 300; repeat: 1.
    expect(s.rejects.total).toBe(5);
    expect(s.rejects.by_rule.map((r) => [r.rule, r.source, r.count])).toEqual([
      ['hold_negative', 'aalto', 4],
      ['repeat', 'webapp', 1],
    ]);
    expect(s.rejects.by_rule[0]!.examples.map((e) => e.source_line)).toEqual([12, 237, 300]);
    expect(s.rejects.by_rule[0]!.examples[1]).toEqual({
      source_file: 'aalto/1466_keystrokes.txt',
      source_line: 237,
      detail: '-6325',
    });
  });

  it("computes Dhakal et al.'s statistics per participant, then their means", () => {
    // u1 s1: printable h i x ! = 4, minus 1 Backspace -> 3 chars ("hi!"); presses 1000..2000 = 1 s
    //   -> (3 - 1) / 1 x 12 = 24 WPM. s2: "ok" 2 chars in 0.4 s -> 1 / 0.4 x 12 = 30 WPM. u1: (24 + 30) / 2 = 27.
    //   PL: s1 250 50 200 300 200, s2 400 -> 1400 / 6 = 233.33 ms. Rollovers: i->x (1300 < 1330) and
    //   Shift->! (2000 < 2150): 2 of 6 pairs. Holds 100 80 80 60 350 100 100 80 -> 950 / 8 = 118.75 ms.
    // u2 a1: "to a" 4 chars in 0.6 s -> 3 / 0.6 x 12 = 60 WPM; PL 100 300 200 -> 200 ms; t->o rolls over: 1 of 3;
    //   holds 120 100 50 100 -> 92.5 ms.
    // u3 m1: one keystroke: no WPM, IKI or rollover; hold 90 ms.
    // Means: WPM (27 + 60) / 2 = 43.5; IKI (233.33 + 200) / 2 = 216.67; hold (118.75 + 92.5 + 90) / 3 = 100.4167;
    //   rollover (1/3 + 1/3) / 2 = 1/3.
    const all = s.typing.all;
    expect(all.participants).toBe(3);
    expect(all.wpm).toBeCloseTo(43.5, 9);
    expect(all.iki_ms).toBeCloseTo(650 / 3, 9);
    expect(all.hold_ms).toBeCloseTo(301.25 / 3, 9);
    expect(all.rollover).toBeCloseTo(1 / 3, 9);
    // webapp: u1 and u3 -> WPM 27, IKI 233.33, hold (118.75 + 90) / 2 = 104.375, rollover 1/3.
    expect(s.typing.by_source.webapp).toMatchObject({ participants: 2, wpm: 27, hold_ms: 104.375 });
    expect(s.typing.by_source.aalto).toMatchObject({
      participants: 1,
      wpm: 60,
      iki_ms: 200,
      hold_ms: 92.5,
    });
    expect(s.typing.reference).toEqual({
      participants: 168_000,
      wpm: 51.56,
      iki_ms: 238.66,
      hold_ms: 116.25,
      rollover: 0.25,
    });
    expect(s.typing.typed_length_sessions).toEqual({ from_text: 0, estimated: 4 });
    expect(s.typing.wpm_histogram).toEqual([
      { lower_wpm: 20, upper_wpm: 30, users: 1 },
      { lower_wpm: 60, upper_wpm: 70, users: 1 },
    ]);
  });

  it('summarises HL, IL, PL and RL per source/platform, keeping negative values', () => {
    // aalto/desktop IL: 10100-10120 = -20, 10400-10200 = 200, 10600-10450 = 150 -> mean 110; sorted
    // -20 150 200: median 150, 25th pct at position 0.5 -> 65, 75th at 1.5 -> 175; SD: deviations
    // -130 90 40 -> (16900 + 8100 + 1600) / 2 = 13300 -> sqrt 115.33.
    const il = s.latency.stats.find((r) => r.latency === 'il' && r.grp === 'aalto/desktop')!;
    expect(il).toMatchObject({ n: 3, mean_ms: 110, q25_ms: 65, median_ms: 150, q75_ms: 175 });
    expect(il.iqr_ms).toBe(110);
    expect(il.negative).toBe(1);
    expect(il.sd_ms).toBeCloseTo(Math.sqrt(13300), 9);
    // webapp/desktop RL (next release - this release): s1 1330-1100 = 230, 1380-1330 = 50,
    // 1560-1380 = 180, 2150-1560 = 590, 2100-2150 = -50; s2 5480-5100 = 380. Mean 1380 / 6 = 230;
    // sorted -50 50 180 230 380 590: median 205, 25th at 1.25 -> 82.5, 75th at 3.75 -> 342.5.
    const rl = s.latency.stats.find((r) => r.latency === 'rl' && r.grp === 'webapp/desktop')!;
    expect(rl).toMatchObject({ n: 6, mean_ms: 230, q25_ms: 82.5, median_ms: 205, q75_ms: 342.5 });
    expect(rl.negative).toBe(1);
    // webapp/desktop IL: 150 -30 120 240 -150 | 300 -> 2 negative of 6. webapp/mobile has no pairs.
    expect(
      s.latency.stats.find((r) => r.latency === 'il' && r.grp === 'webapp/desktop')?.negative,
    ).toBe(2);
    expect(s.latency.stats.map((r) => r.grp)).not.toContain('webapp/mobile');
    expect(s.latency.stats.map((r) => r.latency)).toEqual([
      ...['hl', 'hl', 'il', 'il', 'pl', 'pl', 'rl', 'rl'],
    ]);
    // Each group's histogram counts add up to its pairs, and the -20 ms pair sits in a bin left of zero.
    const ilAalto = s.latency.histograms.il.filter((b) => b.group === 'aalto/desktop');
    expect(ilAalto.reduce((a, b) => a + b.count, 0)).toBe(3);
    expect(ilAalto.find((b) => b.lower_ms <= -20 && -20 < b.upper_ms)?.count).toBe(1);
    for (const name of ['hl', 'il', 'pl', 'rl'] as const)
      expect(
        s.latency.histograms[name]
          .filter((b) => b.group === 'webapp/desktop')
          .reduce((a, b) => a + b.count, 0),
      ).toBe(6);
  });

  it('gives each participant’s spread and compares it with the spread between participants', () => {
    // Recomputed here in plain TypeScript from the fixture's pairs (keypairsOf), not by the stage's
    // code: per participant (source, user_id) the sample SD and IQR of HL, then over participants.
    const pairs = keypairsOf(keystrokes);
    const byUser = new Map<string, typeof pairs>();
    for (const p of pairs) byUser.set(p.user_id, [...(byUser.get(p.user_id) ?? []), p]);
    const sd = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
    };
    const q = (xs: number[], p: number) => {
      const v = [...xs].sort((a, b) => a - b);
      const pos = (v.length - 1) * p;
      return v[Math.floor(pos)]! + (v[Math.ceil(pos)]! - v[Math.floor(pos)]!) * (pos % 1);
    };
    const hl = [...byUser.values()].map((ps) => ps.map((p) => p.hl_ms));
    // u1 HL 100 80 80 60 350 100; u2 HL 120 100 50 (u3 has no pairs).
    expect(hl).toEqual([
      [100, 80, 80, 60, 350, 100],
      [120, 100, 50],
    ]);
    const sds = hl.map(sd);
    const iqrs = hl.map((x) => q(x, 0.75) - q(x, 0.25)); // u1 100 - 80 = 20; u2 110 - 75 = 35
    expect(iqrs).toEqual([20, 35]);
    const spread = s.latency.per_participant.hl;
    expect(spread.participants).toBe(2);
    expect(spread.sd_ms.p50).toBeCloseTo((sds[0]! + sds[1]!) / 2, 9);
    expect(spread.iqr_ms.p50).toBe(27.5);
    // Within-user SD = mean of the two SDs; between-user = SD of the means 770 / 6 and 90.
    const v = s.latency.variability.hl;
    expect(v.within_sd_ms).toBeCloseTo((sds[0]! + sds[1]!) / 2, 9);
    expect(v.between_sd_ms).toBeCloseTo(sd([770 / 6, 90]), 9);
    expect(v.ratio).toBeCloseTo(sd([770 / 6, 90]) / ((sds[0]! + sds[1]!) / 2), 9);
    // Session means of HL: u1 s1 670 / 5 = 134, s2 100 -> SD 24.04; u2 has one session.
    expect(v.participants_with_sessions).toBe(1);
    expect(v.within_session_means_sd_ms).toBeCloseTo(sd([134, 100]), 9);
    expect(html).toContain(escapeHtml(s.latency.variability.pl.reading));
  });

  it('reports sessions, sequences, truncation and padding at M, and key frequency', () => {
    // u1 has 2 sessions, u2 and u3 one each. Sequences: 8 rows, 3 padding -> 0.375.
    expect(s.sessions_per_user).toEqual([
      { sessions: 1, users: 2 },
      { sessions: 2, users: 1 },
    ]);
    expect(s.sessions.sessions_per_user_varies).toBe(true);
    expect(s.features).toEqual({
      M: 4,
      min_sessions_per_user: 2,
      users_kept: 1,
      users_dropped: 2,
      sequences: 2,
      padding_share: 0.375,
    });
    // Keystrokes per session 6, 2, 4, 1: median 3, mean 3.25. M = 4: s1 has 5 pairs (truncated,
    // 1 of the 6 kept pairs cut), s2 has 1 (padded with 3 rows); a1 and m1 are not in the sequences.
    expect(s.sessions.lengths.keystrokes).toMatchObject({ n: 4, p50: 3, mean: 3.25 });
    expect(s.sessions.sequence_fit).toEqual({
      M: 4,
      sessions: 2,
      truncated: 1,
      padded: 1,
      exact: 0,
      truncated_share: 0.5,
      padded_share: 0.5,
      pairs_cut_share: 1 / 6,
      padding_share: 0.375,
    });
    // keyCodes 65 (a, a) and 79 (o, and Aalto's empty LETTER) twice each of 13; then the singles by keyCode.
    expect(s.key_frequency.top.slice(0, 3)).toEqual([
      { keycode: 65, key: 'a', count: 2, share: 2 / 13 },
      { keycode: 79, key: 'o', count: 2, share: 2 / 13 },
      { keycode: 8, key: 'Backspace', count: 1, share: 1 / 13 },
    ]);
    expect(s.key_frequency.top).toHaveLength(11);
  });

  it('lists the most frequent key pairs with their latencies', () => {
    // 9 pairs, each key pair once: ordered by keyCodes; Backspace (8) -> Shift (16) first with
    // HL 1560 - 1500 = 60, IL 1800 - 1560 = 240, PL 300, RL 2150 - 1560 = 590.
    expect(s.digraphs.key_pairs).toBe(9);
    expect(s.digraphs.top.map((d) => `${d.keycode1}>${d.keycode2}`)).toEqual([
      ...['8>16', '16>49', '32>65', '72>73', '73>88', '79>32', '79>75', '84>79', '88>8'],
    ]);
    expect(s.digraphs.top[0]).toEqual({
      keycode1: 8,
      keycode2: 16,
      label: 'Backspace → Shift',
      count: 1,
      share: 1 / 9,
      hl: { q25_ms: 60, median_ms: 60, q75_ms: 60 },
      il: { q25_ms: 240, median_ms: 240, q75_ms: 240 },
      pl: { q25_ms: 300, median_ms: 300, q75_ms: 300 },
      rl: { q25_ms: 590, median_ms: 590, q75_ms: 590 },
    });
    expect(s.digraphs.top[2]!.label).toBe('Space → a');
  });

  it('gives the Backspace share per participant', () => {
    // u1: 1 Backspace of 8 keystrokes; u2 0 of 4; u3 0 of 1. Overall 1 of 13.
    expect(s.backspace).toMatchObject({
      overall: 1 / 13,
      participants: 3,
      participants_without: 2,
    });
    expect(s.backspace.per_participant).toMatchObject({ n: 3, p50: 0, mean: 0.125 / 3 });
    expect(s.backspace.histogram.map((h) => h.participants)).toEqual([
      ...[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ]);
  });

  it("names the version and the other stages' lock fingerprints", () => {
    expect(s.version).toBe('2026-11-26_12-00-00_host-ana');
    // The report's own entry is the previous build's, so it is left out.
    expect(s.lock).toEqual({
      status: 'read',
      fingerprints: { clean: fpClean, features: fpFeatures },
    });
    expect(Date.now() - Date.parse(s.built_at)).toBeLessThan(120_000);
    expect(html).toContain('2026-11-26_12-00-00_host-ana');
    expect(html).toContain(`<code>${fpFeatures}</code>`);
  });

  it('writes a page with no external reference and every chart inline', () => {
    expect(html).not.toMatch(/https?:/);
    expect(html).not.toMatch(/<script|<link|src=/i);
    const charts = [...html.matchAll(/<figure class="chart" data-chart="([a-z]+)"><svg/g)].map(
      (m) => m[1],
    );
    expect(charts).toEqual(pageCharts);
    expect(html).toContain('43.50'); // the data set's WPM beside
    expect(html).toContain('51.56'); // the reference
    // Values from the data are escaped: a reject's detail is text, never markup.
    expect(html).toContain('repeat keydown &lt;Shift&gt; &amp; &quot;a&quot;');
    expect(html).not.toContain('<Shift>');
  });
});

describe('report stage input checks', () => {
  it('fails naming the table and the missing column, and writes nothing', async () => {
    const ws = tempWorkspace();
    try {
      await writeReportInputs(ws, { dropKeystrokeColumns: ['keycode'] });
      const run = runReportStage(ws);
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(
        'report: data/clean/keystrokes/ lacks column(s) keycode; the report reads the columns docs/data-tables.md lists\n',
      );
      expect(existsSync(run.outDir)).toBe(false);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('takes the typed-text length from data/clean/sessions/ where it has the session', async () => {
    const ws = tempWorkspace();
    try {
      // a1's text "to a." has 5 characters (the estimate from its keystrokes says 4): in 0.6 s that is
      // (5 - 1) / 0.6 x 12 = 80 WPM for u2; u1 keeps 27 (estimated), u3 has none -> mean (27 + 80) / 2 = 53.5.
      // Another participant's section a1 (no keystrokes kept) is not u2's: a session is its source,
      // user and session ids.
      await writeReportInputs(ws, {
        typedTexts: [
          { source: 'aalto', user_id: 'u2', session_id: 'a1', typed_text: 'to a.' },
          { source: 'aalto', user_id: 'u4', session_id: 'a1', typed_text: 'something else' },
        ],
      });
      const run = runReportStage(ws);
      expect(run.status, run.stderr).toBe(0);
      const s = JSON.parse(readFileSync(join(run.outDir, 'summary.json'), 'utf8')) as ReportSummary;
      expect(s.typing.typed_length_sessions).toEqual({ from_text: 1, estimated: 3 });
      expect(s.typing.by_source.aalto?.wpm).toBeCloseTo(80, 9);
      expect(s.typing.all.wpm).toBeCloseTo(53.5, 9);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('reports a data set where cleaning kept nothing, without empty charts', async () => {
    const ws = tempWorkspace();
    try {
      await writeReportInputs(ws, { noKeystrokes: true });
      const run = runReportStage(ws);
      expect(run.status, run.stderr).toBe(0);
      const s = JSON.parse(readFileSync(join(run.outDir, 'summary.json'), 'utf8')) as ReportSummary;
      expect(s.funnel).toMatchObject({
        uploads: 3,
        keystrokes: 0,
        sessions: 0,
        key_pairs: 0,
        sequences: 0,
      });
      expect(s.typing.all).toEqual({
        wpm: null,
        iki_ms: null,
        hold_ms: null,
        rollover: null,
        participants: 0,
      });
      const html = readFileSync(join(run.outDir, 'index.html'), 'utf8');
      // Only the funnel (uploads and events were read) and the rejects have data to draw.
      expect([...html.matchAll(/data-chart="([a-z]+)"/g)].map((m) => m[1])).toEqual([
        'funnel',
        'rejects',
      ]);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('says when there is no pipeline.lock and the version is unpublished', async () => {
    const ws = tempWorkspace();
    try {
      await writeReportInputs(ws);
      const run = runReportStage(ws);
      expect(run.status, run.stderr).toBe(0);
      const s = JSON.parse(readFileSync(join(run.outDir, 'summary.json'), 'utf8')) as ReportSummary;
      expect(s.version).toBe('unpublished');
      expect(s.lock).toEqual({ status: 'absent' });
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });
});
