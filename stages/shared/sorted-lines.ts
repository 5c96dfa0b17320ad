// Finding one line of a large file of sorted lines without parsing the others: data/raw/manifest.json
// (one upload per line) and clean's part records (one key or member per line). WHY: at 241,605
// uploads, parsing a 30 MB manifest to look at the few uploads one build changes cost ~0.4 s per
// stage; a binary search reads ~18 lines per lookup.

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
