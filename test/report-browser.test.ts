// The report page of the hand-written fixture opened in a real browser (report-chromium.ts): no
// console errors, no failed or outgoing requests, data marks in every chart, axis labels that
// neither collide nor were dropped by vega on the latency charts, a screenshot in
// test-output/report-fixture.png. report-e2e.test.ts does the same for the page built from the
// repo's samples (test-output/report.png).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectReadableAxes,
  haveChromium,
  openReportPage,
  skipMessage,
  type PageCheck,
} from './report-chromium.js';
import { lockWith, pageCharts, wideIlSession, writeReportInputs } from './report-fixture.js';
import { repoRoot, runReportStage, tempWorkspace } from './report-run.js';

if (!haveChromium) console.warn(`report-browser: ${skipMessage}`);
const screenshot = join(repoRoot, 'test-output/report-fixture.png');

describe.skipIf(!haveChromium)('report page of the fixture in headless Chromium', () => {
  let ws: string;
  let check: PageCheck;

  beforeAll(async () => {
    ws = tempWorkspace();
    // With a session whose IL spans -1,000 to 90,000 ms, where the old axis dropped 19 of 26 labels.
    await writeReportInputs(ws, {
      lock: lockWith({ clean: 'c'.repeat(64) }),
      extraKeystrokes: wideIlSession,
    });
    rmSync(screenshot, { force: true });
    const run = runReportStage(ws);
    expect(run.status, run.stderr).toBe(0);
    check = await openReportPage(join(run.outDir, 'index.html'), screenshot);
  });
  afterAll(() => rmSync(ws, { recursive: true, force: true }));

  it('loads without console errors or requests beyond the file itself', () => {
    expect(check.consoleErrors).toEqual([]);
    expect(check.badRequests).toEqual([]);
  });

  it('draws data marks in every chart', () => {
    expect(check.charts.map((c) => c.id)).toEqual(pageCharts);
    for (const c of check.charts) expect(c.marks, `chart ${c.id}`).toBeGreaterThan(0);
  });

  it('renders no axis label over another label or an axis title', () => {
    expectReadableAxes(check);
  });

  it('saves a screenshot', () => {
    expect(existsSync(screenshot)).toBe(true);
  });
});
