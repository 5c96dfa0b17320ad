// Finding one line of a large file of sorted lines without parsing the others: data/raw/manifest.json
// (one upload per line) and clean's part records (one key or member per line). WHY: at 241,605
// uploads, parsing a 30 MB manifest to look at the few uploads one build changes cost ~0.4 s per
// stage; a binary search reads ~18 lines per lookup. seekLineInFile does the same by positional
// reads of a file not read whole (clean's lookups in a 36 MB manifest: reading it was ~35 ms).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Lines `[start, end)` of `text`: whole lines, each ending in '\n', sorted by a key of their text. */
export interface LineRegion {
  readonly text: Buffer;
  readonly start: number;
  readonly end: number;
}

/** The key a line sorts by, from its text without the '\n' (throws on a malformed line). */
export type KeyOf = (line: string) => string;

/** A line's place: where it starts and ends (past its '\n'); for a missing key, where it would go. */
export interface Seek {
  readonly found: boolean;
  readonly start: number;
  readonly end: number;
}

const LF = 10;

/**
 * The line whose key is `key`, by binary search over the region's bytes (lines are found from any
 * byte by scanning to the previous '\n', so no index of line starts is built). Keys compare as JS
 * strings compare (`<`), the order the files are written in.
 */
export function seekLine(region: LineRegion, key: string, keyOf: KeyOf): Seek {
  const { text } = region;
  let lo = region.start;
  let hi = region.end;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    // lo is a line start (region start, or past a '\n'), so the line holding mid starts at or after it.
    const start = mid === lo ? lo : Math.max(lo, text.lastIndexOf(LF, mid - 1) + 1);
    const end = text.indexOf(LF, start) + 1;
    const found = keyOf(text.toString('utf8', start, end - 1));
    if (found === key) return { found: true, start, end };
    if (found < key) lo = end;
    else hi = start;
  }
  return { found: false, start: lo, end: lo };
}

/** How many lines the region holds. */
export function countLines(region: LineRegion): number {
  let n = 0;
  for (let at = region.start; at < region.end; n++) at = region.text.indexOf(LF, at) + 1;
  return n;
}

/** The 0-based number of the line starting at `offset` (for messages only: reads up to it). */
export function lineNumber(region: LineRegion, offset: number): number {
  return countLines({ ...region, end: offset });
}

/** A line's text without a trailing ',' (the lines of a JSON array, one element per line). */
export function withoutComma(line: string): string {
  return line.endsWith(',') ? line.slice(0, -1) : line;
}

/** Bytes read per probe of seekLineInFile: more than any line of the files it searches. */
const PROBE = 1 << 14;

/**
 * The text (without its '\n') of the line of file `path` whose key is `key`, among the lines from
 * byte `start` (a line start) to the end, or undefined. A line whose key is undefined (keyOf's
 * answer for what is no entry: a closing line) sorts after every key. Keys compare as seekLine's.
 * Throws on a line longer than a probe; the caller then reads the file whole.
 */
export function seekLineInFile(
  path: string,
  start: number,
  key: string,
  keyOf: (line: string) => string | undefined,
): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const read = (at: number, length: number): Buffer => readAt(fd, at, length);
    // Invariant: lo and hi are line starts (or the end); the line with the key, if any, is in
    // [lo, hi).
    let lo = start;
    let hi = fstatSync(fd).size;
    while (hi - lo > PROBE) {
      const mid = lo + ((hi - lo) >> 1);
      // The first line starting at or after mid: past the first '\n' from mid - 1.
      const from = mid - 1;
      const bytes = read(from, Math.min(PROBE, hi - from));
      const nl = bytes.indexOf(LF);
      if (nl === -1) throw new Error(`${path}: a line longer than ${PROBE} bytes`);
      const lineStart = from + nl + 1;
      if (lineStart >= hi) {
        hi = mid; // no line starts in [mid, hi): the key's line, if any, starts before mid
        continue;
      }
      const end = bytes.indexOf(LF, nl + 1);
      if (end === -1) throw new Error(`${path}: a line longer than ${PROBE} bytes`);
      const found = keyOf(bytes.toString('utf8', nl + 1, end));
      if (found === key) return bytes.toString('utf8', nl + 1, end);
      if (found !== undefined && found < key) lo = from + end + 1;
      else hi = lineStart;
    }
    const lines = read(lo, hi - lo)
      .toString('utf8')
      .split('\n');
    for (const line of lines) {
      const found = keyOf(line);
      if (found === key) return line;
      if (found === undefined || found > key) return undefined;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Up to `length` bytes of `fd` from `position` (fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, bytes, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return bytes.subarray(0, got);
}
