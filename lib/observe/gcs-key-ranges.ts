// Where to cut a bucket listing so several pages can be in flight. GCS lists one range of names
// page after page (each page token names the next); ranges bounded by the JSON API's startOffset
// (inclusive) and endOffset (exclusive) are listed independently. So the lister cuts what is left
// of a range at boundaries strictly between the last name seen and the range's end: the pieces
// partition the rest exactly, whatever names exist, as long as the boundaries are increasing in
// the order the service compares them.
//
// That order is UTF-8 bytes (code points); JavaScript compares UTF-16 code units. The two agree
// whenever the first differing position holds a code unit below U+D800 on at least one side, so
// every boundary is built only of such characters (after the listed prefix, which every name and
// boundary share): then a boundary sorts against any name the same way in both orders.

/** Code units at or above this (surrogates, U+E000..U+FFFF) may sort differently in UTF-8. */
const FIRST_UNSAFE = 0xd800;

/** Adds to `into` the character codes a boundary may use, as seen in `names` after `from`. */
export function addAlphabet(names: readonly string[], from: number, into: Set<number>): void {
  for (const name of names) {
    for (let i = from; i < name.length; i++) {
      const code = name.charCodeAt(i);
      if (code < FIRST_UNSAFE) into.add(code);
    }
  }
}

/**
 * Up to `max` boundaries b, increasing, with `lo` < b < `end` (null: no end), each `lo`'s first
 * j characters (j >= `keep`) and one alphabet character greater than lo[j] (or appended to lo).
 *
 * Positions run from the first where a boundary can differ from `lo` (after `keep`, the listed
 * prefix, and within what `lo` shares with `end`) down to `variesAt`, the first position where the
 * page just read differs between its first and last names: shallower cuts split unknown ground
 * coarsely, deeper ones split where the names are known to spread. When there are more candidates
 * than `max`, every k-th is kept, so the cuts still span the whole rest of the range.
 */
export function splitPoints(
  lo: string,
  end: string | null,
  keep: number,
  variesAt: number,
  alphabet: ReadonlySet<number>,
  max: number,
): string[] {
  if (max < 1) return [];
  const first = end === null ? keep : Math.max(keep, commonPrefixLength(lo, end));
  let safe = keep;
  while (safe < lo.length && lo.charCodeAt(safe) < FIRST_UNSAFE) safe++;
  const last = Math.min(Math.max(variesAt, first + 1), safe);
  const chars = [...alphabet].filter((c) => c < FIRST_UNSAFE).sort((a, b) => a - b);
  const candidates: string[] = [];
  for (let j = first; j <= last; j++) {
    const base = lo.slice(0, j);
    const above = j < lo.length ? lo.charCodeAt(j) : -1;
    for (const c of chars) {
      if (c <= above) continue;
      const boundary = base + String.fromCharCode(c);
      if (end === null || boundary < end) candidates.push(boundary);
    }
  }
  // Distinct by construction (each level has its own length or last character); sort merges levels.
  candidates.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (candidates.length <= max) return candidates;
  const step = candidates.length / max;
  return Array.from({ length: max }, (_, k) => candidates[Math.floor(k * step)]!);
}

export function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}
