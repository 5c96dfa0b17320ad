// End to end with the real CLI on the repo's own samples (web-app sessions and Aalto files):
//
//   download ─▶ clean ─▶ keypairs ─▶ features ─▶ report ─▶ reports/index.html + summary.json
//
// `pipe build report` in a temp copy of the workspace; the report's numbers must agree with what
// the upstream stages wrote (an independent count), its fingerprints with pipeline.lock, a second
// build must run nothing, and the page must pass the browser checks (screenshot test-output/report.png).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportSummary } from '../stages/report/summary.js';
import {
  expectReadableAxes,
  haveChromium,
  openReportPage,
  skipMessage,
} from './report-chromium.js';
import { repoRoot } from './report-run.js';

const bin = join(repoRoot, 'bin/pipe.js');
if (!haveChromium) console.warn(`report-e2e (browser part): ${skipMessage}`);

function pipe(ws: string, ...args: string[]) {
  return spawnSync('node', [bin, '-C', ws, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
}

describe('pipe build report on the repo samples', () => {
  let ws: string;
  let first: ReturnType<typeof pipe>;
  let s: ReportSummary;

  beforeAll(() => {
    ws = mkdtempSync(join(tmpdir(), 'pipe-report-e2e-'));
    for (const part of [
      'package.json',
      'pipeline.yaml',
      'params.yaml',
      'config',
      'samples',
      'stages',
      'lib',
    ]) {
      cpSync(join(repoRoot, part), join(ws, part), { recursive: true });
    }
    // Stage scripts resolve their packages from the workspace, like on a fresh clone after npm ci.
    symlinkSync(join(repoRoot, 'node_modules'), join(ws, 'node_modules'));
    first = pipe(ws, 'build', 'report');
    s = JSON.parse(readFileSync(join(ws, 'reports/summary.json'), 'utf8')) as ReportSummary;
  }, 180_000);
  afterAll(() => rmSync(ws, { recursive: true, force: true }));

  it('builds every stage up to the report', () => {
    expect(first.status, first.stderr).toBe(0);
  });

  it('agrees with the counts the upstream stages wrote', () => {
    const clean = JSON.parse(readFileSync(join(ws, 'data/clean/summary.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const features = JSON.parse(
      readFileSync(join(ws, 'data/features/summary.json'), 'utf8'),
    ) as Record<string, unknown>;
    const manifest = JSON.parse(readFileSync(join(ws, 'data/raw/manifest.json'), 'utf8')) as {
      files: unknown[];
    };
    expect(s.funnel.uploads).toBe(manifest.files.length);
    expect(s.funnel.keystrokes).toBe(clean.keystrokes_out);
    expect(s.funnel.sessions).toBe(clean.sessions_out);
    expect(s.typing.all.participants).toBe(clean.users_out);
    expect(s.funnel.sequences).toBe(features.sequences);
    expect(s.features.padding_share).toBeCloseTo(features.padding_share as number, 12);
    // Every rule's count, summed over sources, is the one clean counted.
    const perRule: Record<string, number> = {};
    for (const r of s.rejects.by_rule) perRule[r.rule] = (perRule[r.rule] ?? 0) + r.count;
    expect(perRule).toEqual(clean.rejected);
    // One key pair per consecutive keystrokes in a session: keystrokes - sessions.
    expect(s.funnel.key_pairs).toBe(s.funnel.keystrokes - s.funnel.sessions);
    // The new sections agree with features and with the key counts: every kept session is a
    // sequence, padding as features counted it, Backspace share as keyCode 8's share of all keys.
    expect(s.sessions.sequence_fit.sessions).toBe(features.sequences);
    expect(s.sessions.sequence_fit.padding_share).toBeCloseTo(features.padding_share as number, 12);
    expect(s.sessions.sequence_fit.M).toBe(features.M);
    const bksp = s.key_frequency.top.find((k) => k.keycode === 8)!;
    expect(s.backspace.overall).toBeCloseTo(bksp.share, 12);
    expect(s.backspace.participants).toBe(clean.users_out);
    // Every participant has 15 sessions (15 sentences each): the page says so instead of a chart.
    expect(s.sessions_per_user).toEqual([{ sessions: 15, users: clean.users_out }]);
    expect(s.sessions.sessions_per_user_varies).toBe(false);
    expect(readFileSync(join(ws, 'reports/index.html'), 'utf8')).toContain(
      'Every participant has 15 sessions, so there is no chart of sessions per participant.',
    );
    // The real Aalto pairs (7 participants, whole ms): every IL bin between -5 and 20 ms holds pairs
    // (the old symlog bins narrower than 1 ms always had empty ones there: steps without a whole ms).
    const ilAalto = s.latency.histograms.il.filter(
      (b) => b.group === 'aalto/desktop' && b.upper_ms > -5 && b.lower_ms < 20,
    );
    expect(ilAalto.length).toBeGreaterThanOrEqual(6);
    for (const b of ilAalto) {
      expect(b.count, `IL bin ${b.lower_ms}..${b.upper_ms}`).toBeGreaterThan(0);
      expect(Number.isInteger(b.width_ms) && b.width_ms >= 1).toBe(true);
    }
    // Both formats are in the samples, with the typed text for every session.
    expect(Object.keys(s.typing.by_source).sort()).toEqual(['aalto', 'webapp']);
    expect(s.typing.typed_length_sessions.estimated).toBe(0);
  });

  it('shows the fingerprints pipeline.lock holds for the upstream stages', () => {
    const lock = JSON.parse(readFileSync(join(ws, 'pipeline.lock'), 'utf8')) as {
      stages: Record<string, { fingerprint: string }>;
    };
    const upstream = Object.fromEntries(
      Object.entries(lock.stages)
        .filter(([name]) => name !== 'report')
        .map(([name, e]) => [name, e.fingerprint]),
    );
    expect(s.lock).toEqual({ status: 'read', fingerprints: upstream });
    expect(Object.keys(upstream).sort()).toEqual(['clean', 'download', 'features', 'keypairs']);
  });

  it('runs nothing on a second build', () => {
    const again = pipe(ws, 'build', 'report');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toContain('0 ran');
  });

  it.skipIf(!haveChromium)('opens in headless Chromium with marks in every chart', async () => {
    const check = await openReportPage(
      join(ws, 'reports/index.html'),
      join(repoRoot, 'test-output/report.png'),
    );
    expect(check.consoleErrors).toEqual([]);
    expect(check.badRequests).toEqual([]);
    // Every sample participant has 15 sessions: no sessions-per-participant chart.
    expect(check.charts.map((c) => c.id)).toEqual([
      ...['funnel', 'rejects', 'hl', 'il', 'pl', 'rl', 'spread', 'wpm', 'lengths', 'backspace'],
      ...['keys', 'digraphs'],
    ]);
    for (const c of check.charts) expect(c.marks, `chart ${c.id}`).toBeGreaterThan(0);
    expectReadableAxes(check);
  });
});
