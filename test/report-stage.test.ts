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
import { lockWith, writeReportInputs } from './report-fixture.js';
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
      records: { charts: 8, participants: 3 },
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

  it('summarises latencies per source/platform, keeping negative IL', () => {
    // aalto/desktop IL: 10100-10120 = -20, 10400-10200 = 200, 10600-10450 = 150 -> mean 110, median 150, 1 negative.
    const il = s.latency.stats.find((r) => r.latency === 'il' && r.grp === 'aalto/desktop');
    expect(il).toEqual({
      latency: 'il',
      grp: 'aalto/desktop',
      n: 3,
      mean_ms: 110,
      median_ms: 150,
      negative: 1,
    });
    // webapp/desktop IL: 150 -30 120 240 -150 | 300 -> 2 negative of 6. webapp/mobile has no pairs.
    expect(
      s.latency.stats.find((r) => r.latency === 'il' && r.grp === 'webapp/desktop')?.negative,
    ).toBe(2);
    expect(s.latency.stats.map((r) => r.grp)).not.toContain('webapp/mobile');
    // Each group's histogram counts add up to its pairs, and the -20 ms pair sits in a bin left of zero.
    const ilAalto = s.latency.histograms.il.filter((b) => b.group === 'aalto/desktop');
    expect(ilAalto.reduce((a, b) => a + b.count, 0)).toBe(3);
    expect(ilAalto.find((b) => b.lower_ms <= -20 && -20 < b.upper_ms)?.count).toBe(1);
    expect(
      s.latency.histograms.hl
        .filter((b) => b.group === 'webapp/desktop')
        .reduce((a, b) => a + b.count, 0),
    ).toBe(6);
  });

  it('reports sessions, sequences, padding and key frequency', () => {
    // u1 has 2 sessions, u2 and u3 one each. Sequences: 8 rows, 3 padding -> 0.375.
    expect(s.sessions_per_user).toEqual([
      { sessions: 1, users: 2 },
      { sessions: 2, users: 1 },
    ]);
    expect(s.features).toEqual({
      M: 4,
      min_sessions_per_user: 2,
      users_kept: 1,
      users_dropped: 2,
      sequences: 2,
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
    expect(charts).toEqual(['funnel', 'rejects', 'hl', 'il', 'pl', 'wpm', 'sessions', 'keys']);
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
        'report: data/clean/keystrokes.parquet lacks column(s) keycode; the report reads the columns docs/data-tables.md lists\n',
      );
      expect(existsSync(run.outDir)).toBe(false);
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('takes the typed-text length from data/clean/sessions.parquet where it has the session', async () => {
    const ws = tempWorkspace();
    try {
      // a1's text "to a." has 5 characters (the estimate from its keystrokes says 4): in 0.6 s that is
      // (5 - 1) / 0.6 x 12 = 80 WPM for u2; u1 keeps 27 (estimated), u3 has none -> mean (27 + 80) / 2 = 53.5.
      await writeReportInputs(ws, {
        typedTexts: [{ source: 'aalto', session_id: 'a1', typed_text: 'to a.' }],
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
