// Binary search over a buffer of '\n'-terminated lines sorted in byte order, with no index of
// line starts: a line is found from any byte by scanning back to the previous '\n'. For files of
// hundreds of thousands of lines read to answer a few questions (observe/state-cache.ts,
// observe/manifest-text.ts): building the index would cost more than all the searches.

const NL = 10;

/**
 * Where the first line of `text` not below `key` (comparing the line's bytes, without its '\n',
 * with the key's) starts; text.length if there is none. `text` ends in '\n' or is empty.
 */
export function lowerBoundLine(text: Buffer, key: Buffer): number {
  // Invariant: lo and hi are line starts; every line before lo is below the key, none from hi on.
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = lo + ((hi - lo) >> 1);
    const start = mid === 0 ? 0 : text.lastIndexOf(NL, mid - 1) + 1;
    const end = text.indexOf(NL, start);
    if (text.compare(key, 0, key.length, start, end) < 0) lo = end + 1;
    else hi = start;
  }
  return lo;
}
