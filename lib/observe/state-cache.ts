// `.pipe/state`: file hashes keyed by path + size + mtime + inode, so a file whose metadata has
// not changed is not read again. Never committed; deleting it only costs one rehash.
//
// THE RACY-FILE RULE (the same problem git calls "racy git"). A filesystem stores mtime with some
// granularity (ext4: ns, but updated from a coarse kernel clock tick; NFS and FAT: 1-2 s). A file
// written again within the tick in which we stat it can keep the same mtime and size while its
// content differs. So an entry is persisted only when the file's mtime is more than
// RACY_WINDOW_MS older than the clock reading taken just before the stat: any later write then
// necessarily gets a later mtime. A file hashed "too soon" is kept for this process only and is
// hashed again next time (by then it is old enough to be trusted). Rehash when in doubt.
//
// The file format is plain text, SORTED BY PATH (code-unit order):
//   line 1:  `pipe-state 3`
//   then:    `<workspace-relative path>\t<size>\t<mtime ms>\t<inode>\t<sha256>` per file
// WHY sorted: loading 100,000 entries into a Map cost more than the stats of a no-op status
// (two strings and a map slot per file, all surviving into the old generation). Instead the text
// stays one string plus an array of line offsets; lookups come in the order of our sorted folder
// walk, so a cursor usually finds the next one on the next line, and a binary search finds the
// rest. A file that is not sorted (edited by hand) only costs misses, that is rehashing.
//
// `.pipe/state-small` holds, in the same format, the entries NOT under a folder of .pipe/folders
// (scripts, configs, small folders). It is read at once; `.pipe/state` (75 MB at 241,605 uploads)
// only on the first lookup it cannot answer. A no-op build whose big folders all match their
// folder entries then never reads the big file. Both are caches keyed by stamp: any entry whose
// stamp matches may answer (a persistent entry is never racy), so the two cannot disagree.
//
// HARD LINKS. Stage download links each upload into data/raw (stages/shared/file-mirror.ts): the
// runner hashes the uploads folder as download's dep, then data/raw as its out, the same inodes
// under other paths (241,605 files, 2.4 GB at 10M keystrokes). Device + inode names the file
// itself, whatever the path, so a file this process hashed with a trusted (not racy) stamp also
// answers for any other path to the same device and inode whose size and mtime are still those
// it was hashed with: the same bytes, as surely as a path's entry is. Kept for this process only
// (the persistent format keys by path), and the answer is stored under the new path as usual.
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readCacheLines } from '../util/cache-file.js';
import { FolderStamps, type FolderEntry } from './folder-stamps.js';
import type { FileStamp, HashCache } from './types.js';
import type { Sha256Hex } from '../util/sha256.js';

export const STATE_FILE = '.pipe/state';
export const SMALL_STATE_FILE = '.pipe/state-small';
const HEADER = 'pipe-state 3';
const TAB = 9;

/**
 * 2 s: the coarsest mtime granularity we meet (FAT, some NFS servers) and comfortably more than
 * the clock skew between stat and a same-host write.
 */
export const RACY_WINDOW_MS = 2000;

/** `<size>\t<mtime ms>\t<inode>\t<sha256>`: the line as stored on disk, minus the path. */
type Entry = string;

function stampKey(stamp: FileStamp): string {
  return `${stamp.size}\t${stamp.mtimeMs}\t${stamp.ino}\t`;
}

export class StateCache implements HashCache {
  readonly #workspace: string;
  readonly #prefix: string;
  /** The loaded file, and where each valid line starts and ends (the `\n`). */
  #text = '';
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  /** The line after the last hit: where the next lookup of a sorted walk most likely is. */
  #cursor = 0;
  /** Entries remembered by this process, persisted on save; null deletes a loaded line. */
  readonly #changed = new Map<string, Entry | null>();
  /** Racy entries: good for this process, never saved. */
  readonly #session = new Map<string, Entry>();
  /** Trusted entries this process hashed, by inode (see HARD LINKS above). */
  readonly #byInode = new Map<number, { readonly dev: number; readonly entry: Entry }>();
  #dirty = false;
  /** Whether the loaded lines are in strictly increasing path order (a file we wrote is). */
  #sorted = true;

  /** Whole-folder entries (folder-stamps.ts), saved with the per-file ones. */
  readonly #folders: FolderStamps;
  #loaded = false;
  /** `.pipe/state-small`, path -> entry; undefined when absent (then written on the next save). */
  readonly #small: Map<string, Entry> | undefined;

  private constructor(workspace: string) {
    this.#workspace = workspace;
    this.#prefix = workspace + sep;
    this.#folders = FolderStamps.load(workspace);
    this.#small = loadSmall(workspace);
  }

  /**
   * A cache for `.pipe/state`; the file itself is read on the first lookup (a no-op build whose big
   * folders all match their folder entries never needs it). Missing or unreadable: empty.
   */
  static load(workspace: string): StateCache {
    return new StateCache(workspace);
  }

  #ensureLoaded(): void {
    if (this.#loaded) return;
    this.#loaded = true;
    let text: string;
    try {
      text = readFileSync(join(this.#workspace, STATE_FILE), 'utf8');
    } catch {
      return;
    }
    if (!text.startsWith(`${HEADER}\n`)) return;
    this.#text = text;
    let pos = HEADER.length + 1;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end === -1) end = text.length;
      const tab = text.indexOf('\t', pos);
      // path \t size \t mtime \t inode \t sha; the shortest valid rest is `0\t0\t0\t<64 hex>`.
      if (tab > pos && tab < end && end - tab > 70) {
        const last = this.#starts.length - 1;
        if (last >= 0 && this.#sorted && pathOrder(text, this.#starts[last]!, pos) >= 0)
          this.#sorted = false;
        this.#starts.push(pos);
        this.#ends.push(end);
      }
      pos = end + 1;
    }
  }

  folder(rel: string): FolderEntry | undefined {
    return this.#folders.get(rel);
  }

  rememberFolder(
    rel: string,
    entry: FolderEntry | undefined,
    newestMtimeMs: number,
    statTimeMs: number,
  ): boolean {
    const kept =
      entry !== undefined && statTimeMs - newestMtimeMs > RACY_WINDOW_MS ? entry : undefined;
    this.#folders.set(rel, kept);
    return kept !== undefined;
  }

  #key(absPath: string): string {
    // Hot path (once per file per status): a slice, not path.relative.
    const rel = absPath.startsWith(this.#prefix)
      ? absPath.slice(this.#prefix.length)
      : relative(this.#workspace, absPath);
    return sep === '/' ? rel : rel.split(sep).join('/');
  }

  /** Compares `key` with the path of the line starting at `pos`, without slicing it out. */
  #compareAt(key: string, pos: number): number {
    const text = this.#text;
    for (let k = 0; ; k++) {
      const b = text.charCodeAt(pos + k);
      if (b === TAB) return k === key.length ? 0 : 1;
      if (k === key.length) return -1;
      const a = key.charCodeAt(k);
      if (a !== b) return a < b ? -1 : 1;
    }
  }

  /** The index of the loaded line for `key`, or -1. */
  #find(key: string): number {
    const starts = this.#starts;
    const c = this.#cursor;
    if (
      c < starts.length &&
      this.#text.startsWith(key, starts[c]!) &&
      this.#text.charCodeAt(starts[c]! + key.length) === TAB
    )
      return c;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const cmp = this.#compareAt(key, starts[mid]!);
      if (cmp === 0) return mid;
      if (cmp < 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return -1;
  }

  lookup(absPath: string, stamp: FileStamp): Sha256Hex | undefined {
    const key = this.#key(absPath);
    const small = fromEntry(this.#small?.get(key), stamp);
    if (small !== undefined) return small;
    this.#ensureLoaded();
    // A name with a tab or newline is never stored (see save); it must not match part of a line.
    if (key.includes('\t') || key.includes('\n')) return fromEntry(this.#session.get(key), stamp);
    if (this.#session.size > 0 && this.#session.has(key))
      return fromEntry(this.#session.get(key), stamp) ?? this.#linked(key, stamp);
    if (this.#changed.size > 0 && this.#changed.has(key))
      return fromEntry(this.#changed.get(key) ?? undefined, stamp) ?? this.#linked(key, stamp);
    const line = this.#find(key);
    if (line === -1) return this.#linked(key, stamp);
    this.#cursor = line + 1;
    const from = this.#starts[line]! + key.length + 1;
    const end = this.#ends[line]!;
    const want = stampKey(stamp);
    if (end - from !== want.length + 64 || !this.#text.startsWith(want, from))
      return this.#linked(key, stamp);
    return this.#text.slice(end - 64, end) as Sha256Hex;
  }

  /**
   * The hash of another path to the same file (device + inode, same size and mtime), if this process
   * hashed it; stored under `key` too. (lookup has already answered keys with a tab or newline.)
   */
  #linked(key: string, stamp: FileStamp): Sha256Hex | undefined {
    const other = this.#byInode.get(stamp.ino);
    if (other === undefined || other.dev !== stamp.dev) return undefined;
    const sha = fromEntry(other.entry, stamp);
    if (sha !== undefined) {
      this.#changed.set(key, other.entry);
      this.#session.delete(key);
      this.#dirty = true;
    }
    return sha;
  }

  remember(absPath: string, stamp: FileStamp, sha256: Sha256Hex, statTimeMs: number): void {
    this.#ensureLoaded();
    const key = this.#key(absPath);
    const entry: Entry = stampKey(stamp) + sha256;
    if (statTimeMs - stamp.mtimeMs > RACY_WINDOW_MS) {
      this.#changed.set(key, entry);
      this.#session.delete(key);
      this.#byInode.set(stamp.ino, { dev: stamp.dev, entry });
    } else {
      this.#session.set(key, entry);
      // A stale persistent entry for this path must not outlive the new content. (Only if there
      // is one: a fresh download's 241,605 new paths would otherwise fill a map with nulls.)
      if (this.#changed.has(key) || this.#find(key) !== -1) this.#changed.set(key, null);
    }
    this.#dirty = true;
  }

  /** The index of the first loaded line whose path is not below `key` (lines sorted). */
  #lowerBound(key: string): number {
    let lo = 0;
    let hi = this.#starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#compareAt(key, this.#starts[mid]!) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Writes `.pipe/state` (and `.pipe/folders`, `.pipe/state-small`) atomically, sorted, if anything changed. */
  async save(): Promise<void> {
    await this.#folders.save(this.#workspace);
    if (!this.#dirty && (this.#small !== undefined || !this.#loaded)) return;
    // A name with a tab or newline cannot be stored in this format; it is simply rehashed.
    const changes = [...this.#changed]
      .filter(([path]) => !/[\t\n]/.test(path))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (!this.#sorted) return this.#saveSorted(changes);
    // The loaded lines are sorted: the changes are merged in, the lines between them copied as
    // slices of the loaded text. At 1,000,000 files one changed upload rewrote a map of every
    // line (seconds, and a GB of strings); now it costs the copy.
    const text = this.#text;
    const starts = this.#starts;
    const ends = this.#ends;
    const pieces: string[] = [`${HEADER}\n`];
    let next = 0;
    const copyTo = (stop: number): void => {
      // Lines [next, stop) as they are (a malformed line between them is copied too, and skipped
      // again when loaded).
      // Pushed apart, not joined: `slice + '\n'` would make the writer flatten a copy of it.
      if (stop > next) pieces.push(text.slice(starts[next], ends[stop - 1]), '\n');
      next = Math.max(next, stop);
    };
    const small = new Map<string, Entry>();
    const big = this.#folders.names().map((f) => `${f}/`);
    const isSmall = (path: string): boolean => !big.some((f) => path.startsWith(f));
    for (const [path, entry] of changes) {
      const at = this.#lowerBound(path);
      copyTo(at);
      if (at < starts.length && this.#compareAt(path, starts[at]!) === 0) next = at + 1;
      if (entry !== null) pieces.push(`${path}\t${entry}\n`);
      if (entry !== null && isSmall(path)) small.set(path, entry);
    }
    copyTo(starts.length);
    if (this.#dirty) await writeFileAtomic(join(this.#workspace, STATE_FILE), pieces);
    // `.pipe/state-small`: the loaded lines outside the big folders (their ranges found by
    // search, not by a pass over every line), with the changes there.
    const bigRanges = big
      .map((f) => [this.#lowerBound(f), this.#lowerBound(afterPrefix(f))] as const)
      .sort((a, b) => a[0] - b[0]);
    const keep = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const tab = text.indexOf('\t', starts[i]);
        const path = text.slice(starts[i], tab);
        if (!this.#changed.has(path)) small.set(path, text.slice(tab + 1, ends[i]));
      }
    };
    let from = 0;
    for (const [lo, hi] of bigRanges) {
      keep(from, lo);
      from = Math.max(from, hi);
    }
    keep(from, starts.length);
    const lines = [...small]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([path, e]) => `${path}\t${e}`);
    await writeFileAtomic(
      join(this.#workspace, SMALL_STATE_FILE),
      `${[HEADER, ...lines].join('\n')}\n`,
    );
    this.#dirty = false;
  }

  /** save() for a loaded file that is not sorted (edited by hand): every line into a map, sorted. */
  async #saveSorted(changes: readonly (readonly [string, Entry | null])[]): Promise<void> {
    const all = new Map<string, Entry>();
    for (let i = 0; i < this.#starts.length; i++) {
      const tab = this.#text.indexOf('\t', this.#starts[i]);
      all.set(this.#text.slice(this.#starts[i], tab), this.#text.slice(tab + 1, this.#ends[i]));
    }
    for (const [path, e] of changes) {
      if (e === null) all.delete(path);
      else all.set(path, e);
    }
    const paths = [...all.keys()].sort();
    const parts: string[] = [HEADER];
    for (const path of paths) {
      if (!/[\t\n]/.test(path)) parts.push(`${path}\t${all.get(path)!}`);
    }
    if (this.#dirty)
      await writeFileAtomic(join(this.#workspace, STATE_FILE), `${parts.join('\n')}\n`);
    const big = this.#folders.names().map((f) => `${f}/`);
    const small = parts.filter((line, i) => i === 0 || !big.some((f) => line.startsWith(f)));
    await writeFileAtomic(join(this.#workspace, SMALL_STATE_FILE), `${small.join('\n')}\n`);
    this.#dirty = false;
  }
}

/** The smallest string above every string starting with `prefix` (its last code unit + 1). */
function afterPrefix(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** Code-unit order of the paths (up to the tab) of the lines starting at `a` and `b` of `text`. */
function pathOrder(text: string, a: number, b: number): number {
  for (let k = 0; ; k++) {
    const x = text.charCodeAt(a + k);
    const y = text.charCodeAt(b + k);
    if (x === TAB || y === TAB) return x === y ? 0 : x === TAB ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
}

function loadSmall(workspace: string): Map<string, Entry> | undefined {
  const lines = readCacheLines(join(workspace, SMALL_STATE_FILE), HEADER);
  if (lines === undefined) return undefined;
  const entries = new Map<string, Entry>();
  for (const line of lines) {
    const tab = line.indexOf('\t');
    if (tab > 0) entries.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return entries;
}

function fromEntry(entry: Entry | undefined, stamp: FileStamp): Sha256Hex | undefined {
  if (entry === undefined) return undefined;
  const want = stampKey(stamp);
  return entry.length === want.length + 64 && entry.startsWith(want)
    ? (entry.slice(want.length) as Sha256Hex)
    : undefined;
}
