// Opens a report page in Debian's Chromium through playwright-core (a test tool's own browser
// download does not work here) from file://, with a fresh profile, and collects what the browser
// tests assert: console errors, failed or outgoing requests, data marks per chart; saves a
// full-page screenshot.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);
export const skipMessage = `SKIPPED: ${chromiumPath} is absent (install it: apt-get install -y chromium; .ci/run does)`;

export interface PageCheck {
  readonly consoleErrors: string[];
  readonly badRequests: string[];
  /** Per chart (figure[data-chart]), the number of data marks that take up space. */
  readonly charts: { id: string; marks: number }[];
}

export async function openReportPage(htmlPath: string, screenshotPath: string): Promise<PageCheck> {
  const profile = mkdtempSync(join(tmpdir(), 'pipe-report-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
    viewport: { width: 1100, height: 900 },
  });
  try {
    const check: PageCheck = { consoleErrors: [], badRequests: [], charts: [] };
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') check.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => check.consoleErrors.push(e.message));
    page.on('requestfailed', (r) => check.badRequests.push(`failed: ${r.url()}`));
    // The page is self-contained: the only request is the page itself, from disk.
    page.on('request', (r) => {
      if (!r.url().startsWith('file://')) check.badRequests.push(`outgoing: ${r.url()}`);
    });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    check.charts.push(
      ...(await page.$$eval('figure.chart', (figures) =>
        figures.map((f) => ({
          id: f.getAttribute('data-chart') ?? '?',
          // Data marks only (vega's role-mark groups), not axes or legends; a bar or line must have an
          // area (a rule, a line element, may be thin in one direction).
          marks: [
            ...f.querySelectorAll(
              'svg g.role-mark path, svg g.role-mark rect, svg g.role-mark line',
            ),
          ].filter((el) => {
            const box = (
              el as unknown as { getBBox(): { width: number; height: number } }
            ).getBBox();
            return el.tagName === 'line'
              ? box.width > 0 || box.height > 0
              : box.width > 0 && box.height > 0;
          }).length,
        })),
      )),
    );
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return check;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
