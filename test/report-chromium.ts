// Opens a report page in Debian's Chromium through playwright-core (a test tool's own browser
// download does not work here) from file://, with a fresh profile, and collects what the browser
// tests assert: console errors, failed or outgoing requests, data marks per chart, axis labels and
// titles whose rendered boxes overlap; saves a full-page screenshot.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';

export const chromiumPath = '/usr/bin/chromium';
export const haveChromium = existsSync(chromiumPath);
export const skipMessage = `SKIPPED: ${chromiumPath} is absent (install it: apt-get install -y chromium; .ci/run does)`;

export interface PageCheck {
  readonly consoleErrors: string[];
  readonly badRequests: string[];
  /** Per chart (figure[data-chart]), the number of data marks that take up space. */
  readonly charts: { id: string; marks: number }[];
  /** Every axis of every chart: its visible tick labels and titles as rendered, and its ticks. */
  readonly axes: AxisCheck[];
  /**
   * Pairs of boxes (getBoundingClientRect, as Chromium rendered them) that overlap within a chart:
   * two tick labels (of any axes), or a tick label and an axis title.
   */
  readonly overlaps: string[];
}

interface Box {
  readonly text: string;
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

export interface AxisCheck {
  readonly chart: string;
  /** 'x' or 'y'. */
  readonly axis: string;
  /** Visible, non-empty tick labels. */
  readonly labels: Box[];
  readonly titles: Box[];
  /** Visible tick marks. */
  readonly ticks: number;
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
    const check: PageCheck = {
      consoleErrors: [],
      badRequests: [],
      charts: [],
      axes: [],
      overlaps: [],
    };
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
    check.axes.push(
      ...(await page.$$eval('figure.chart', (figures) =>
        figures.flatMap((f) =>
          // vega labels each axis group "X-axis titled ..." / "Y-axis titled ..." (aria-label); the
          // grid is an axis group without one. Labels vega dropped for overlap have opacity="0".
          // (No named functions in here: the bundler's name helper does not exist in the page.)
          [...f.querySelectorAll('g.role-axis[aria-label]')].map((axis) => {
            const [labels, titles, ticks] = [
              'g.role-axis-label text',
              'g.role-axis-title text',
              'g.role-axis-tick line',
            ].map((selector) =>
              [...axis.querySelectorAll(selector)]
                .filter((t) => t.getAttribute('opacity') !== '0')
                .map((t) => {
                  const r = t.getBoundingClientRect();
                  return {
                    text: t.textContent ?? '',
                    x0: r.left,
                    x1: r.right,
                    y0: r.top,
                    y1: r.bottom,
                  };
                }),
            ) as [Box[], Box[], Box[]];
            return {
              chart: f.getAttribute('data-chart') ?? '?',
              axis: (axis.getAttribute('aria-label') ?? '?').slice(0, 1).toLowerCase(),
              labels: labels.filter((l) => l.text !== ''),
              titles,
              ticks: ticks.length,
            };
          }),
        ),
      )),
    );
    const overlap = (p: Box, q: Box) => p.x0 < q.x1 && q.x0 < p.x1 && p.y0 < q.y1 && q.y0 < p.y1;
    for (const chart of new Set(check.axes.map((a) => a.chart))) {
      const axes = check.axes.filter((a) => a.chart === chart);
      const labels = axes.flatMap((a) => a.labels.map((l) => ({ ...l, axis: a.axis })));
      const titles = axes.flatMap((a) => a.titles.map((t) => ({ ...t, axis: a.axis })));
      for (let i = 0; i < labels.length; i++) {
        const p = labels[i]!;
        for (const q of labels.slice(i + 1))
          if (overlap(p, q))
            check.overlaps.push(
              `${chart}: label ${p.axis} "${p.text}" / label ${q.axis} "${q.text}"`,
            );
        for (const t of titles)
          if (overlap(p, t))
            check.overlaps.push(
              `${chart}: label ${p.axis} "${p.text}" / title ${t.axis} "${t.text}"`,
            );
      }
    }
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return check;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The axes read cleanly: no tick label overlaps another label or an axis title anywhere, and on
 * the latency charts (whose ticks the report picks itself) every tick has its label, so none was
 * dropped by vega's overlap removal. The IL chart's x axis is measured: it must have labels.
 */
export function expectReadableAxes(check: PageCheck): void {
  expect(check.overlaps).toEqual([]);
  const ilX = check.axes.find((a) => a.chart === 'il' && a.axis === 'x');
  expect(ilX?.labels.length ?? 0).toBeGreaterThanOrEqual(3);
  for (const a of check.axes.filter(
    (x) => ['hl', 'il', 'pl', 'rl'].includes(x.chart) && x.axis === 'x',
  ))
    expect(
      a.labels.map((l) => l.text),
      `${a.chart} x axis: ${a.ticks} ticks`,
    ).toHaveLength(a.ticks);
}
