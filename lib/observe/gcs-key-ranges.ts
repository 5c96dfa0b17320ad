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

const DIGITS = codes('0123456789');
const HEX = codes('0123456789abcdef');
const LOWER = codes('0123456789abcdefghijklmnopqrstuvwxyz');
const UPPER = codes('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');

/**
 * Which characters to cut at, position by position, learnt from the names listed so far. A cut
 * at a character no name has there costs one request that comes back empty, so: a position seen
 * to vary cuts at its characters' whole kind (digits, hex, letters: ids vary within a kind); a
 * constant digit may be a counter's leading digit, so it cuts at the id characters seen varying
 * anywhere; a constant letter or sign is taken for a literal (`user-`) and not cut at all; past
 * every name seen, any character seen may follow.
 */
export class KeyAlphabet {
  readonly #seen: Array<Set<number>> = [];
  readonly #any = new Set<number>();
  #cache: Array<readonly number[]> | undefined;

  /** Learns from `names`, each read from index `from` (after the listed prefix). */
  observe(names: readonly string[], from: number): void {
    for (const name of names) {
      for (let i = from; i < name.length; i++) {
        const code = name.charCodeAt(i);
        if (code >= FIRST_UNSAFE) break; // nothing past it is ever cut at
        const at = i - from;
        let seen = this.#seen[at];
        if (seen === undefined) {
          seen = new Set();
          this.#seen[at] = seen;
        }
        seen.add(code);
        this.#any.add(code);
      }
    }
    this.#cache = undefined;
  }

  /** Candidate characters at index `at` after the prefix, increasing. */
  at(at: number): readonly number[] {
    this.#cache ??= this.#build();
    return this.#cache[at] ?? this.#cache[this.#seen.length]!;
  }

  #build(): Array<readonly number[]> {
    const kindsOf = (seen: ReadonlySet<number>): Set<number> => {
      const out = new Set(seen);
      const has = (set: readonly number[]) => set.some((c) => seen.has(c));
      if (has(DIGITS)) for (const c of DIGITS) out.add(c);
      const lower = [...seen].filter((c) => LOWER.includes(c) && !DIGITS.includes(c));
      if (lower.length > 0)
        for (const c of lower.every((c) => HEX.includes(c)) ? HEX : LOWER) out.add(c);
      if (has(UPPER.slice(10))) for (const c of UPPER) out.add(c);
      return out;
    };
    const ids = new Set<number>();
    for (const seen of this.#seen) {
      if (seen.size < 2) continue;
      for (const c of kindsOf(seen)) if (LOWER.includes(c) || UPPER.includes(c)) ids.add(c);
    }
    const sorted = (set: Iterable<number>) => [...set].sort((a, b) => a - b);
    const out = this.#seen.map((seen) => {
      if (seen.size >= 2) return sorted(kindsOf(seen));
      const only = [...seen][0]!;
      return DIGITS.includes(only) ? sorted(new Set([...DIGITS, ...ids, only])) : [only];
    });
    out.push(sorted(this.#any));
    return out;
  }
}

function codes(chars: string): readonly number[] {
  return [...chars].map((c) => c.charCodeAt(0));
}

/**
 * Up to `max` boundaries b, increasing, with `lo` < b < `end` (null: no end), each `lo`'s first
 * j characters (j >= `keep`) and one character of `alphabet.at(j - keep)` greater than lo[j] (or
 * appended to lo).
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
  alphabet: KeyAlphabet,
  max: number,
): string[] {
  if (max < 1) return [];
  const first = end === null ? keep : Math.max(keep, commonPrefixLength(lo, end));
  let safe = keep;
  while (safe < lo.length && lo.charCodeAt(safe) < FIRST_UNSAFE) safe++;
  const last = Math.min(Math.max(variesAt, first + 1), safe);
  const candidates: string[] = [];
  for (let j = first; j <= last; j++) {
    const base = lo.slice(0, j);
    const above = j < lo.length ? lo.charCodeAt(j) : -1;
    for (const c of alphabet.at(j - keep)) {
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
