// The racy-file rule's clock (lib/observe/stat-clock.ts): a stamp on the workspace's device is
// trusted when its mtime is strictly older than .pipe/clock's, written just before the reading;
// on another device, or without .pipe, only when it is more than 2 s older by the wall clock.
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLOCK_FILE, clockBeforeStats, trustedStamp } from '../lib/observe/stat-clock.js';

const root = mkdtempSync(join(tmpdir(), 'pipe-stat-clock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A file under `dir` whose mtime is `ageMs` before now. */
function fileAged(dir: string, name: string, ageMs: number) {
  const path = join(dir, name);
  writeFileSync(path, name);
  const when = (Date.now() - ageMs) / 1000;
  utimesSync(path, when, when);
  return statSync(path);
}

describe('the racy-file clock', () => {
  const ws = join(root, 'ws');
  mkdirSync(join(ws, '.pipe'), { recursive: true });

  it('trusts a file 1 s old on the workspace device, by the filesystem clock', () => {
    const old = fileAged(ws, 'old', 1000);
    const reading = clockBeforeStats(ws);
    expect(trustedStamp(old.mtimeMs, old.dev, reading)).toBe(true);
    // The same stamp read by the wall clock alone (another device): 1 s is inside the 2 s window.
    expect(trustedStamp(old.mtimeMs, old.dev + 1, reading)).toBe(false);
    const older = fileAged(ws, 'older', 3000);
    expect(trustedStamp(older.mtimeMs, older.dev + 1, reading)).toBe(true);
  });

  it('does not trust a file written after the reading, or one as new as the marker', () => {
    const reading = clockBeforeStats(ws);
    const marker = statSync(join(ws, CLOCK_FILE));
    writeFileSync(join(ws, 'new'), 'new');
    const fresh = statSync(join(ws, 'new'));
    expect(fresh.mtimeMs).toBeGreaterThanOrEqual(marker.mtimeMs);
    expect(trustedStamp(fresh.mtimeMs, fresh.dev, reading)).toBe(false);
    // Same mtime as the marker: a write in the same tick could keep it.
    expect(trustedStamp(marker.mtimeMs, marker.dev, reading)).toBe(false);
    expect(trustedStamp(marker.mtimeMs - 0.001, marker.dev, reading)).toBe(true);
  });

  it('judges each stamp by the reading taken before it, not a later one', () => {
    const first = clockBeforeStats(ws);
    const marker = statSync(join(ws, CLOCK_FILE)).mtimeMs;
    const stamp = fileAged(ws, 'between', 0); // written after the first reading
    const later = Date.now() + 80;
    while (Date.now() < later); // a new marker (readings within 50 ms are given again), ticks later
    const second = clockBeforeStats(ws);
    expect(second).toBeGreaterThan(first);
    expect(stamp.mtimeMs).toBeGreaterThanOrEqual(marker);
    expect(trustedStamp(stamp.mtimeMs, stamp.dev, first)).toBe(false);
    expect(trustedStamp(stamp.mtimeMs, stamp.dev, second)).toBe(true);
    // Within 50 ms the same reading is given again: no second write to .pipe/clock.
    const marked = statSync(join(ws, CLOCK_FILE)).mtimeMs;
    expect(clockBeforeStats(ws)).toBe(second);
    expect(statSync(join(ws, CLOCK_FILE)).mtimeMs).toBe(marked);
  });

  it('falls back to the 2 s wall-clock rule without a .pipe folder', () => {
    const bare = join(root, 'bare');
    mkdirSync(bare);
    const old = fileAged(bare, 'old', 1000);
    const reading = clockBeforeStats(bare);
    expect(trustedStamp(old.mtimeMs, old.dev, reading)).toBe(false);
    expect(trustedStamp(old.mtimeMs, old.dev, reading + 1500)).toBe(true);
  });
});
