// Reading and changing a few lines of a stored manifest's text (manifest-store.ts) without making
// an object of every line: the lines are sorted, so a binary search over the bytes finds them.
//
// spliceManifest: the text with a few files taken out and a few put in, made by cutting the old
// bytes at the changed lines instead of parsing every line into an object and printing every line
// again:
//
//   old text   line line line | line line | line line ...        (sorted by `<path>\t`)
//                             ^ a removed file's lines cut out, found by binary search
//   new text   line line line   new-line   line line ...          (pieces: slices of the old bytes)
//
// WHY: after download's one new upload, data/raw's manifest (241,605 lines, ~30 MB) was parsed
// into objects, filtered, sorted and printed again: ~1 s of a build whose stages took 4 s.
// Binary search and slices cost a few milliseconds, whatever the folder's size.
//
// Only for text whose byte order is the sort order: every path printable ASCII (no character below
// the tab, whose lines sort apart from their paths: hash.ts manifestChunks). Anything else is
// undefined, and the caller lists the files instead.
import { createHash } from 'node:crypto';
import { isAscii } from 'node:buffer';
import type { Sha256Hex } from '../util/sha256.js';
import { lowerBoundLine } from '../util/sorted-buffer.js';
import type { FileHash } from './types.js';

const NL = 10;
const TAB = 9;

/** A file put in: its path relative to the manifest's base. */
export interface SplicedFile {
  readonly rel: string;
  readonly sha256: Sha256Hex;
  readonly size: number;
}

export interface Spliced {
  /** The new text, in order: slices of the old bytes and the new lines. */
  readonly pieces: readonly Buffer[];
  readonly sha256: Sha256Hex;
  /** The new manifest's total size and file count, from the old ones and the lines cut and put. */
  readonly size: number;
  readonly count: number;
  /**
   * What differs from the old manifest, in path order (manifest-diff.ts's answer for the two,
   * made from the lines cut and put): a file put in with its old content is no change.
   */
  readonly changes: readonly {
    readonly change: 'added' | 'modified' | 'deleted';
    readonly rel: string;
  }[];
}

/**
 * `text` (a manifest of `count` files totalling `size` bytes) without the lines of `removed`
 * (relative paths: a file, or a folder and everything under it) and with `added` put in (a line
 * already there for the same path is replaced); undefined when byte order may not be line order.
 */
export function spliceManifest(
  text: Buffer,
  old: { readonly size: number; readonly count: number },
  removed: readonly string[],
  added: readonly SplicedFile[],
): Spliced | undefined {
  if (!isAscii(text) || ![...removed, ...added.map((f) => f.rel)].every(plainPath))
    return undefined;
  if (text.length > 0 && text[text.length - 1] !== NL) return undefined;
  const folders = new Set(removed);
  // Byte ranges to cut: a file's line is `<rel>\t...`; a folder's lines all start `<rel>/`, and
  // sort before `<rel>0` ('0' follows '/' in ASCII).
  const cuts: [number, number][] = [];
  for (const rel of [...removed, ...added.map((f) => f.rel)]) {
    cuts.push([lowerBound(text, `${rel}\t`), lowerBound(text, `${rel}\n`)]);
    if (folders.has(rel)) cuts.push([lowerBound(text, `${rel}/`), lowerBound(text, `${rel}0`)]);
  }
  const merged = mergeRanges(cuts);
  let size = old.size;
  let count = old.count;
  const was = new Map<string, string>();
  for (const [from, to] of merged) {
    for (let s = from; s < to; ) {
      const e = text.indexOf(NL, s);
      const tab = text.indexOf(TAB, s);
      // `path \t 64 hex \t size \n`: the size is after the second tab.
      size -= Number(text.toString('latin1', tab + 66, e));
      count -= 1;
      was.set(text.toString('latin1', s, tab), text.toString('latin1', tab + 1, tab + 65));
      s = e + 1;
    }
  }
  const now = new Map(added.map((f) => [f.rel, f.sha256 as string]));
  const changes = [...new Set([...was.keys(), ...now.keys()])].sort().flatMap((rel) => {
    const a = was.get(rel);
    const b = now.get(rel);
    if (a === b) return [];
    const change = a === undefined ? 'added' : b === undefined ? 'deleted' : 'modified';
    return [{ change, rel } as const];
  });
  const inserts = added
    .map((f) => ({
      at: lowerBound(text, `${f.rel}\t`),
      line: `${f.rel}\t${f.sha256}\t${f.size}\n`,
    }))
    .sort((a, b) => a.at - b.at || (a.line < b.line ? -1 : 1));
  for (const f of added) size += f.size;
  count += added.length;

  const pieces: Buffer[] = [];
  let cursor = 0;
  let r = 0;
  /** The old bytes from the cursor up to `end`, less the cut ranges. */
  const keepUntil = (end: number) => {
    while (cursor < end) {
      while (r < merged.length && merged[r]![1] <= cursor) r++;
      const cut = merged[r];
      if (cut === undefined || cut[0] >= end) {
        pieces.push(text.subarray(cursor, end));
        cursor = end;
      } else {
        if (cut[0] > cursor) pieces.push(text.subarray(cursor, cut[0]));
        cursor = Math.min(cut[1], end);
      }
    }
  };
  for (const insert of inserts) {
    keepUntil(insert.at);
    pieces.push(Buffer.from(insert.line));
  }
  keepUntil(text.length);
  const hash = createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  return { pieces, sha256: hash.digest('hex') as Sha256Hex, size, count, changes };
}

/**
 * The lines of `rels` (paths relative to the manifest's base) in `text`, as files under `prefix`;
 * undefined when byte order may not be line order, or a path has no line.
 */
export function manifestLinesOf(
  text: Buffer,
  rels: Iterable<string>,
  prefix: string,
): FileHash[] | undefined {
  if (!isAscii(text)) return undefined;
  const files: FileHash[] = [];
  for (const rel of rels) {
    if (!plainPath(rel)) return undefined;
    const start = lowerBound(text, `${rel}\t`);
    const end = text.indexOf(NL, start);
    if (start >= text.length || end === -1) return undefined;
    const tab = start + rel.length;
    if (text[tab] !== TAB || text.toString('latin1', start, tab) !== rel) return undefined;
    files.push({
      path: prefix + rel,
      sha256: text.toString('latin1', tab + 1, tab + 65) as Sha256Hex,
      size: Number(text.toString('latin1', tab + 66, end)),
    });
  }
  return files;
}

/** Printable ASCII only: no tab or newline to break a line, nothing below the tab to reorder it. */
function plainPath(rel: string): boolean {
  return rel.length > 0 && /^[\x20-\x7e]+$/.test(rel);
}

/** The offset of the first line of `text` not below `key` in byte order (text.length if none). */
function lowerBound(text: Buffer, key: string): number {
  return lowerBoundLine(text, Buffer.from(key, 'latin1'));
}

/** Sorted, overlapping or touching ranges joined, empty ones dropped. */
function mergeRanges(ranges: readonly [number, number][]): [number, number][] {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}
