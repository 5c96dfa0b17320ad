// The report page opened in a real browser: Debian's Chromium, driven by playwright-core, from
// file:// with no server. No console errors, no failed or outgoing requests, data marks in every
// chart, and a full-page screenshot in test-output/report.png for a human to look at.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReportInputs } from './report-fixture.js';
import { repoRoot, runReportStage, tempWorkspace } from './report-run.js';

const chromiumPath = '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  console.warn(`report-browser: SKIPPED, ${chromiumPath} is absent (install it: apt-get install -y chromium; .ci/run does)`);
}

describe.skipIf(!haveChromium)('report page in headless Chromium', () => {
  let ws: string;
  let profile: string;
  let context: BrowserContext;
  const consoleErrors: string[] = [];
  const badRequests: string[] = [];
  let chartMarks: { id: string; marks: number }[] = [];

  beforeAll(async () => {
    ws = tempWorkspace();
    await writeReportInputs(ws, { lock: 'stages:\n  clean:\n    fingerprint: f00d\n' });
    const run = runReportStage(ws);
    expect(run.status, run.stderr).toBe(0);
    profile = mkdtempSync(join(tmpdir(), 'pipe-report-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--disable-quic'],
      viewport: { width: 1100, height: 900 },
    });
    const page = await context.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => badRequests.push(`failed: ${r.url()}`));
    // The page is self-contained: the only request is the page itself, from disk.
    page.on('request', (r) => { if (!r.url().startsWith('file://')) badRequests.push(`outgoing: ${r.url()}`); });
    await page.goto(pathToFileURL(join(run.outDir, 'index.html')).href, { waitUntil: 'load' });
    chartMarks = await page.$$eval('figure.chart', (figures) => figures.map((f) => ({
      id: f.getAttribute('data-chart') ?? '?',
      // Data marks only (role-mark), not axes or legends, and only ones that take up space.
      marks: [...f.querySelectorAll('svg g.role-mark path, svg g.role-mark rect, svg g.role-mark line')].filter((el) => {
        const box = (el as unknown as { getBBox(): { width: number; height: number } }).getBBox();
        return el.tagName === 'line' ? box.width > 0 || box.height > 0 : box.width > 0 && box.height > 0;
      }).length,
    })));
    mkdirSync(join(repoRoot, 'test-output'), { recursive: true });
    await page.screenshot({ path: join(repoRoot, 'test-output/report.png'), fullPage: true });
  });

  afterAll(async () => {
    await context?.close();
    rmSync(ws, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  it('loads without console errors or requests beyond the file itself', () => {
    expect(consoleErrors).toEqual([]);
    expect(badRequests).toEqual([]);
  });

  it('draws data marks in every chart', () => {
    expect(chartMarks.map((c) => c.id)).toEqual(['funnel', 'rejects', 'hl', 'il', 'pl', 'wpm', 'sessions', 'keys']);
    for (const c of chartMarks) expect(c.marks, `chart ${c.id}`).toBeGreaterThan(0);
  });

  it('saves a screenshot', () => {
    expect(existsSync(join(repoRoot, 'test-output/report.png'))).toBe(true);
  });
});
