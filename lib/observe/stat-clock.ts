// The clock the racy-file rule (state-cache.ts) reads before taking stamps: the wall clock, and,
// for files on the workspace's own device, the filesystem's clock as well.
//
// WHY: by the wall clock alone a stamp is trusted only once its mtime is RACY_WINDOW_MS (2 s)
// older than the stat, so every file a build writes is hashed again by the next one: at 10M
// web-app keystrokes ~0.1 s of a 100-upload build (data/raw/manifest.json is 37 MB). git's rule
// needs no margin: it compares an mtime with the mtime of a file it wrote itself (the index)
// before the stat, one clock for both. Here that file is .pipe/clock, written just before each
// clock reading. Any write to a file on its device after the stat gets an mtime at least the
// marker's, so a stamp whose mtime is strictly older than the marker's cannot be left unchanged
// by a later write. A file on another device (another filesystem, perhaps another host's clock)
// keeps the 2 s rule, and so does every file when .pipe/clock cannot be written.
//
// A reading is a wall-clock time, as callers have always passed it (statTimeMs), unique in the
// process; the filesystem's time taken with it is found again by device and that reading.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * 2 s: the coarsest mtime granularity we meet (FAT, some NFS servers) and comfortably more than
 * the clock skew between stat and a same-host write. For files where the filesystem's clock was
 * not read.
 */
export const RACY_WINDOW_MS = 2000;

export const CLOCK_FILE = '.pipe/clock';

/** Per device: wall-clock reading -> the marker's mtime written just before it. */
const readings = new Map<number, Map<number, number>>();
let lastReading = 0;
/** Per workspace, its last reading with a marker, and when (performance.now()) it was taken. */
const lastMarker = new Map<string, { reading: number; at: number }>();
/**
 * A reading younger than this is given again: shorter than a stage run (keypairs' one-upload run
 * takes ~90 ms), so the outs a stage wrote are judged by a reading taken after it ended.
 */
const REUSE_MS = 50;

/**
 * The wall clock, never the same value twice in this process (a microsecond later than the last
 * when the millisecond repeats): a reading without a filesystem time must not be taken for one
 * that has one.
 */
function wallReading(): number {
  const now = Date.now();
  lastReading = now > lastReading ? now : lastReading + 0.001;
  return lastReading;
}

/**
 * Writes .pipe/clock under `workspace`, then reads the wall clock: the reading to take stamps
 * after (a statTimeMs for HashCache.remember and trustedStamp).
 */
export function clockBeforeStats(workspace: string): number {
  // An earlier reading serves as well (any later write still gets an mtime at least its marker's);
  // it only leaves the files written since then untrusted. A build takes ~80 readings, most of
  // them within milliseconds of the last (~0.2 ms each, a write to .pipe).
  const last = lastMarker.get(workspace);
  if (last !== undefined && performance.now() - last.at < REUSE_MS) return last.reading;
  let marker: { dev: number; mtimeMs: number };
  try {
    const path = join(workspace, CLOCK_FILE);
    // A write of new bytes always moves the mtime (an empty truncate may not).
    writeFileSync(path, `${process.pid} ${Date.now()}\n`);
    marker = statSync(path);
  } catch {
    // No .pipe yet, or read-only: the wall clock alone.
    return wallReading();
  }
  const reading = wallReading();
  const byWall = readings.get(marker.dev) ?? new Map<number, number>();
  readings.set(marker.dev, byWall.set(reading, marker.mtimeMs));
  lastMarker.set(workspace, { reading, at: performance.now() });
  return reading;
}

/**
 * Whether a stamp with `mtimeMs`, on device `dev` (NaN: unknown or mixed), taken after the
 * reading `statTimeMs`, can be stored: no later write can leave its mtime unchanged.
 */
export function trustedStamp(mtimeMs: number, dev: number, statTimeMs: number): boolean {
  const fsMs = readings.get(dev)?.get(statTimeMs);
  if (fsMs !== undefined) return mtimeMs < fsMs;
  return statTimeMs - mtimeMs > RACY_WINDOW_MS;
}
