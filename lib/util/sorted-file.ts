// lowerBoundLine (sorted-buffer.ts) over a file that is not read whole: a binary search by
// positional reads of a few KB, then one read of the span the answer is in, kept for the next
// question. WHY: `.pipe/state` is 75 MB at 241,605 uploads, and a build after one new upload asks
// it about the ~130 files of the two folder parts that changed: reading it whole was ~50 ms of
// that build's critical path, these reads are well under 1 ms. Lookups come in path order, so
// most are answered from the kept span.
import { closeSync, openSync, readSync } from 'node:fs';
import { lowerBoundLine } from './sorted-buffer.js';

const NL = 10;
/** A search stops halving here and reads the rest at once (most lookups' lines are in it). */
const SPAN = 1 << 16;
/** Bytes read around a probe: more than any line (a path is at most 4,096 bytes). */
const PROBE = 1 << 14;

/** A file of '\n'-terminated lines sorted in byte order, searched without reading it whole. */
export class SortedLineFile {
  readonly #fd: number;
  /** Where the lines start (after a header) and end (after the last '\n'). */
  readonly #start: number;
  readonly #end: number;
  /** The last span read: its file offset and its bytes (whole lines). */
  #spanAt = -1;
  #span: Buffer = Buffer.alloc(0);

  private constructor(fd: number, start: number, end: number) {
    this.#fd = fd;
    this.#start = start;
    this.#end = end;
  }

  /**
   * Opens `path` whose lines start at byte `start` and end at byte `end` (just after a '\n').
   * Throws what openSync throws.
   */
  static open(path: string, start: number, end: number): SortedLineFile {
    return new SortedLineFile(openSync(path, 'r'), start, end);
  }

  close(): void {
    closeSync(this.#fd);
  }

  #read(at: number, length: number): Buffer {
    const bytes = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.#fd, bytes, got, length - got, at + got);
      if (n === 0) break;
      got += n;
    }
    return bytes.subarray(0, got);
  }

  /**
   * The first line not below `key` (as lowerBoundLine compares), without its '\n'; undefined if
   * every line is below it. Throws if the file no longer has the lines it was opened with (a line
   * longer than a probe, or cut short): the caller then reads it whole.
   */
  lowerBound(key: Buffer): Buffer | undefined {
    const kept = this.#fromSpan(key);
    if (kept !== null) return kept;
    // Invariant (as lowerBoundLine): lo and hi are line starts; every line before lo is below
    // the key, none from hi on.
    let lo = this.#start;
    let hi = this.#end;
    while (hi - lo > SPAN) {
      const mid = lo + ((hi - lo) >> 1);
      const from = Math.max(lo, mid - PROBE / 2);
      const bytes = this.#read(from, Math.min(this.#end, from + PROBE) - from);
      const back = mid - from === 0 ? -1 : bytes.lastIndexOf(NL, mid - from - 1);
      if (back === -1 && from !== lo) throw new Error('a line longer than a probe');
      const start = back + 1;
      const end = bytes.indexOf(NL, start);
      if (end === -1) throw new Error('a line longer than a probe');
      if (bytes.compare(key, 0, key.length, start, end) < 0) lo = from + end + 1;
      else hi = from + start;
    }
    // The span [lo, hi) and the line at hi, in one read kept for the next lookup.
    const bytes = this.#read(lo, Math.min(this.#end, hi + PROBE) - lo);
    const whole = bytes.subarray(0, bytes.lastIndexOf(NL) + 1);
    if (lo + whole.length < Math.min(this.#end, hi + 1)) throw new Error('a line cut short');
    this.#spanAt = lo;
    this.#span = whole;
    const at = lowerBoundLine(whole, key);
    if (at < whole.length) return whole.subarray(at, whole.indexOf(NL, at));
    if (lo + whole.length === this.#end) return undefined;
    throw new Error('the line at the bound was not read'); // hi's line is in `whole`, and not below
  }

  /**
   * The answer from the kept span if it holds it: the span's first line is below the key (or
   * the span starts the file) and a line not below it is in the span (or the span ends the
   * file). null when the span cannot say.
   */
  #fromSpan(key: Buffer): Buffer | undefined | null {
    const span = this.#span;
    if (this.#spanAt < 0 || span.length === 0) return null;
    if (this.#spanAt !== this.#start) {
      const firstEnd = span.indexOf(NL);
      if (span.compare(key, 0, key.length, 0, firstEnd) >= 0) return null;
    }
    const at = lowerBoundLine(span, key);
    if (at === span.length) return this.#spanAt + span.length === this.#end ? undefined : null;
    return span.subarray(at, span.indexOf(NL, at));
  }
}
