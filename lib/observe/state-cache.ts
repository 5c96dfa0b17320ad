// `.pipe/state`: file hashes keyed by path + size + mtime + inode, so a file whose metadata has
// not changed is not read again. Never committed; deleting it only costs one rehash.
//
// THE RACY-FILE RULE (the same problem git calls "racy git"). A filesystem stores mtime with some
// granularity (ext4: ns, but updated from a coarse kernel clock tick; NFS and FAT: 1-2 s). A file
// written again within the tick in which we stat it can keep the same mtime and size while its
// content differs. So an entry is persisted only when the file's mtime is older than the clock
// reading taken just before the stat, by the filesystem's own clock (strictly) or else by more
// than RACY_WINDOW_MS of the wall clock (stat-clock.ts): any later write then necessarily gets a
// later mtime. A file hashed "too soon" is kept for this process only and is hashed again next
// time (by then it is old enough to be trusted). Rehash when in doubt.
//
// The file format is plain text, SORTED BY PATH (byte order of the UTF-8 paths):
//   line 1:  `pipe-state 3`
//   then:    `<workspace-relative path>\t<size>\t<mtime ms>\t<inode>\t<sha256>` per file
// WHY sorted: loading 100,000 entries into a Map cost more than the stats of a no-op status
// (two strings and a map slot per file, all surviving into the old generation). Instead the file
// stays one buffer, never decoded or indexed: a lookup is a binary search over its bytes, and
// lookups come in the order of our sorted folder walk, so the line after the last hit usually
// answers the next one. At 241,605 uploads (75 MB) reading it costs ~40 ms; decoding it to a string
// and indexing its lines cost ~0.3 s of every build that looked up one changed upload.
// Whether the file is sorted is known from `.pipe/state-sorted`: the size, mtime and inode of the
// file as save() wrote it. Another file (edited by hand, or written by an older pipe) is checked
// line by line once; one that is not sorted only costs misses (rehashing), and is sorted on save.
//
// `.pipe/state-small` holds, in the same format, the entries NOT under a folder of .pipe/folders
// (scripts, configs, small folders). It is read at once; `.pipe/state` (75 MB at 241,605 uploads)
// only on the first lookup it cannot answer. A no-op build whose big folders all match their
// folder entries then never reads the big file. Both are caches keyed by stamp: any entry whose
// stamp matches may answer (a persistent entry is never racy), so the two cannot disagree.
//
// THE JOURNAL. A build after one new upload changes a few dozen entries of 241,605; rewriting the
// 75 MB file for them cost ~80 ms, and reading it whole ~50 ms, both on the build's critical
// path. So a file save() wrote (its stamp in `.pipe/state-sorted`) is searched where it lies, by
// positional reads (util/sorted-file.ts), and save() writes the changes to `.pipe/state-journal`
// instead: `pipe-state-journal 1\t<size>\t<mtime ms>\t<inode>` of the `.pipe/state` it
// amends, then `<path>\t<entry>` or `<path>\t-` (removed) per line. Lookups take the journal's
// line before the big file's. Once the journal passes JOURNAL_MAX_BYTES, save() merges it into
// `.pipe/state` and removes it. A journal whose stamp is not the big file's (that file was
// replaced, or a kill came between the merge and the removal) is ignored: both are caches keyed by
// stamp, so what it held is only hashed again.
//
// HARD LINKS. Stage download links each upload into data/raw (stages/shared/file-mirror.ts): the
// runner hashes the uploads folder as download's dep, then data/raw as its out, the same inodes
// under other paths (241,605 files, 2.4 GB at 10M keystrokes). Device + inode names the file
// itself, whatever the path, so a file this process hashed also answers for any other path to the
// same device and inode whose size and mtime are still those it was hashed with: the same bytes,
// as surely as a path's entry is. Kept for this process only (the persistent format keys by
// path); the answer is stored under the new path as the first one was: persisted if its stamp was
// trusted, for this process only if it was racy (an upload written just before the build, then
// linked into data/raw by download, is not hashed a second time).
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { flushManifestWrites } from './manifest-store.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { lowerBoundLine } from '../util/sorted-buffer.js';
import { SortedLineFile } from '../util/sorted-file.js';
import { readCacheLines } from '../util/cache-file.js';
import { FolderStamps, type FolderEntry } from './folder-stamps.js';
import type { FileStamp, HashCache } from './types.js';
import type { Sha256Hex } from '../util/sha256.js';
import { trustedStamp } from './stat-clock.js';

export const STATE_FILE = '.pipe/state';
export const SMALL_STATE_FILE = '.pipe/state-small';
export const STATE_JOURNAL_FILE = '.pipe/state-journal';
const JOURNAL_HEADER = 'pipe-state-journal 1';
/**
 * 1 MiB, ~10,000 entries: read into a map on every load (~5 ms), and dozens of builds of a few
 * new uploads each before a merge.
 */
export const JOURNAL_MAX_BYTES = 1 << 20;
/** `<size>\t<mtime ms>\t<inode>` of `.pipe/state` as save() wrote it: then it is sorted. */
export const SORTED_STAMP_FILE = '.pipe/state-sorted';
const HEADER = 'pipe-state 3';
const TAB = 9;
const NL = 10;

/** `<size>\t<mtime ms>\t<inode>\t<sha256>`: the line as stored on disk, minus the path. */
type Entry = string;

function stampKey(stamp: FileStamp): string {
  return `${stamp.size}\t${stamp.mtimeMs}\t${stamp.ino}\t`;
}

export class StateCache implements HashCache {
  readonly #workspace: string;
  readonly #prefix: string;
  /** The loaded file's lines (after the header), when read whole (else #file searches it). */
  #text: Buffer = Buffer.alloc(0);
  /** `.pipe/state` searched where it lies: a file save() wrote, not read whole (THE JOURNAL). */
  #file: SortedLineFile | undefined;
  /** `.pipe/state-journal`, if it amends the `.pipe/state` on disk: path -> entry, null removed. */
  #journal: Map<string, Entry | null>;
  /** Where the line after the last hit starts: the next lookup of a sorted walk most likely. */
  #cursor = 0;
  /** Entries remembered by this process, persisted on save; null deletes a loaded line. */
  readonly #changed = new Map<string, Entry | null>();
  /** Racy entries: good for this process, never saved. */
  readonly #session = new Map<string, Entry>();
  /** Entries this process hashed, by inode, and whether too new to persist (HARD LINKS above). */
  readonly #byInode = new Map<
    number,
    { readonly dev: number; readonly entry: Entry; readonly racy: boolean }
  >();
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
    this.#journal = loadJournal(workspace);
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
    const path = join(this.#workspace, STATE_FILE);
    const written = wroteSorted(this.#workspace, path);
    if (written !== undefined) {
      try {
        this.#file = SortedLineFile.open(path, `${HEADER}\n`.length, written.size);
        return;
      } catch {
        // Gone since: read as any other file below.
      }
    }
    this.#readWhole();
  }

  /** `.pipe/state` read into #text (a file save() did not write, or one to merge into). */
  #readWhole(): void {
    this.#file?.close();
    this.#file = undefined;
    const path = join(this.#workspace, STATE_FILE);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return;
    }
    const header = Buffer.from(`${HEADER}\n`);
    if (bytes.length < header.length || !bytes.subarray(0, header.length).equals(header)) return;
    // A final line cut short (a file truncated by hand) is dropped, so every line ends in \n.
    const end = bytes.lastIndexOf(NL) + 1;
    this.#text = bytes.subarray(header.length, Math.max(header.length, end));
    if (wroteSorted(this.#workspace, path) === undefined) this.#sorted = linesSorted(this.#text);
  }

  folder(rel: string): FolderEntry | undefined {
    return this.#folders.get(rel);
  }

  rememberFolder(rel: string, entry: FolderEntry | undefined): void {
    this.#folders.set(rel, entry);
  }

  #key(absPath: string): string {
    // Hot path (once per file per status): a slice, not path.relative.
    const rel = absPath.startsWith(this.#prefix)
      ? absPath.slice(this.#prefix.length)
      : relative(this.#workspace, absPath);
    return sep === '/' ? rel : rel.split(sep).join('/');
  }

  /** The big file's entry for `key` (a path without tab or newline), searched where it lies. */
  #stored(key: string): Entry | undefined {
    const tabbed = Buffer.from(`${key}\t`);
    if (this.#file !== undefined) {
      let line: Buffer | undefined;
      try {
        line = this.#file.lowerBound(tabbed);
      } catch {
        // Not the lines it was written with (changed under us): read whole from now on.
        this.#readWhole();
        return this.#stored(key);
      }
      if (line === undefined || line.compare(tabbed, 0, tabbed.length, 0, tabbed.length) !== 0)
        return undefined;
      return line.toString('latin1', tabbed.length);
    }
    const start = this.#find(tabbed);
    if (start === -1) return undefined;
    const end = this.#text.indexOf(NL, start);
    this.#cursor = end + 1;
    return this.#text.toString('latin1', start + tabbed.length, end);
  }

  /** Where the line for `key` (its path's bytes, then a tab) starts in #text, or -1. */
  #find(key: Buffer): number {
    const text = this.#text;
    const c = this.#cursor;
    if (
      c < text.length &&
      text[c + key.length - 1] === TAB &&
      text.compare(key, 0, key.length, c, c + key.length) === 0
    )
      return c;
    const at = lowerBoundLine(text, key);
    return at < text.length && text.compare(key, 0, key.length, at, at + key.length) === 0
      ? at
      : -1;
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
    if (this.#journal.size > 0 && this.#journal.has(key))
      return fromEntry(this.#journal.get(key) ?? undefined, stamp) ?? this.#linked(key, stamp);
    return fromEntry(this.#stored(key), stamp) ?? this.#linked(key, stamp);
  }

  /**
   * The hash of another path to the same file (device + inode, same size and mtime), if this process
   * hashed it; stored under `key` too, for this process only if it was too new to be trusted (the
   * racy-file rule holds for the file, whatever its name). WHY: download's copies in data/raw are
   * hard links of the uploads hashed moments before. (lookup has already answered keys with a tab
   * or newline.)
   */
  #linked(key: string, stamp: FileStamp): Sha256Hex | undefined {
    const other = this.#byInode.get(stamp.ino);
    if (other === undefined || other.dev !== stamp.dev) return undefined;
    const sha = fromEntry(other.entry, stamp);
    if (sha !== undefined && other.racy) this.#session.set(key, other.entry);
    else if (sha !== undefined) {
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
    if (trustedStamp(stamp.mtimeMs, stamp.dev, statTimeMs)) {
      this.#changed.set(key, entry);
      this.#session.delete(key);
      this.#byInode.set(stamp.ino, { dev: stamp.dev, entry, racy: false });
    } else {
      this.#session.set(key, entry);
      this.#byInode.set(stamp.ino, { dev: stamp.dev, entry, racy: true });
      // A stale persistent entry for this path must not outlive the new content. (Only if there
      // is one: a fresh download's 241,605 new paths would otherwise fill a map with nulls.)
      if (
        this.#changed.has(key) ||
        (this.#journal.get(key) ?? undefined) !== undefined ||
        (!/[\t\n]/.test(key) && this.#stored(key) !== undefined)
      )
        this.#changed.set(key, null);
    }
    this.#dirty = true;
  }

  /** Writes `.pipe/state` (and `.pipe/folders`, `.pipe/state-small`) atomically, sorted, if anything changed. */
  async save(): Promise<void> {
    // A folder entry names its manifest: the manifest is on disk first.
    await flushManifestWrites();
    await this.#folders.save(this.#workspace);
    if (!this.#dirty && (this.#small !== undefined || !this.#loaded)) return;
    // The journal's changes, then this process's over them. A name with a tab or newline cannot
    // be stored in this format; it is simply rehashed.
    const all = new Map(this.#journal);
    for (const [path, entry] of this.#changed) all.set(path, entry);
    const changes = [...all]
      .filter(([path]) => !/[\t\n]/.test(path))
      .map(([path, entry]) => ({ path, key: Buffer.from(path), entry }))
      .sort((a, b) => Buffer.compare(a.key, b.key));
    if (this.#file !== undefined && this.#small !== undefined) {
      const lines = changes.map(({ path, entry }) => `${path}\t${entry ?? '-'}`);
      const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      if (bytes <= JOURNAL_MAX_BYTES) return this.#saveJournal(lines);
    }
    if (this.#file !== undefined) this.#readWhole(); // to merge into
    await this.#merge(changes, all);
    rmSync(join(this.#workspace, STATE_JOURNAL_FILE), { force: true });
    this.#journal = new Map();
    // The file on disk is the merged one now: read it (or search it) again if asked.
    this.#text = Buffer.alloc(0);
    this.#cursor = 0;
    this.#sorted = true;
    this.#loaded = false;
  }

  /**
   * The changes as `.pipe/state-journal` (the big file stays as it is), and `.pipe/state-small`
   * with this process's changes outside the big folders.
   */
  async #saveJournal(lines: readonly string[]): Promise<void> {
    const base = statSync(join(this.#workspace, STATE_FILE));
    await writeFileAtomic(
      join(this.#workspace, STATE_JOURNAL_FILE),
      `${[`${JOURNAL_HEADER}\t${base.size}\t${base.mtimeMs}\t${base.ino}`, ...lines].join('\n')}\n`,
    );
    const big = this.#folders.names().map((f) => `${f}/`);
    const small = new Map(this.#small);
    for (const [path, entry] of this.#changed) {
      if (/[\t\n]/.test(path) || big.some((f) => path.startsWith(f))) continue;
      if (entry === null) small.delete(path);
      else small.set(path, entry);
    }
    await saveSmall(this.#workspace, small);
    this.#dirty = false;
  }

  /** `.pipe/state` and `.pipe/state-small` rewritten with `changes` merged into #text. */
  async #merge(
    changes: readonly {
      readonly path: string;
      readonly key: Buffer;
      readonly entry: Entry | null;
    }[],
    all: ReadonlyMap<string, Entry | null>,
  ): Promise<void> {
    if (!this.#sorted) return this.#saveSorted(changes);
    // The loaded lines are sorted: the changes are merged in, the lines between them copied as
    // slices of the loaded bytes. At 1,000,000 files one changed upload rewrote a map of every
    // line (seconds, and a GB of strings); now it costs the copy.
    const text = this.#text;
    const pieces: Uint8Array[] = [Buffer.from(`${HEADER}\n`)];
    let next = 0;
    const small = new Map<string, Entry>();
    const big = this.#folders.names().map((f) => `${f}/`);
    const isSmall = (path: string): boolean => !big.some((f) => path.startsWith(f));
    for (const { path, key, entry } of changes) {
      const tabbed = Buffer.concat([key, Buffer.from('\t')]);
      const at = lowerBoundLine(text, tabbed);
      if (at > next) pieces.push(text.subarray(next, at));
      next = Math.max(next, at);
      if (at < text.length && text.compare(tabbed, 0, tabbed.length, at, at + tabbed.length) === 0)
        next = text.indexOf(NL, at) + 1;
      if (entry !== null) pieces.push(Buffer.from(`${path}\t${entry}\n`));
      if (entry !== null && isSmall(path)) small.set(path, entry);
    }
    if (next < text.length) pieces.push(text.subarray(next));
    if (this.#dirty || this.#journal.size > 0) await this.#writeState(pieces);
    // `.pipe/state-small`: the loaded lines outside the big folders (their ranges found by
    // search, not by a pass over every line), with the changes there.
    const bigRanges = big
      .map(
        (f) =>
          [lowerBoundLine(text, Buffer.from(f)), lowerBoundLine(text, afterPrefix(f))] as const,
      )
      .sort((a, b) => a[0] - b[0]);
    const keep = (from: number, to: number): void => {
      for (let at = from; at < to; ) {
        const end = text.indexOf(NL, at);
        const tab = text.indexOf(TAB, at);
        const path = text.toString('utf8', at, tab);
        if (!all.has(path)) small.set(path, text.toString('latin1', tab + 1, end));
        at = end + 1;
      }
    };
    let from = 0;
    for (const [lo, hi] of bigRanges) {
      keep(from, lo);
      from = Math.max(from, hi);
    }
    keep(from, text.length);
    await saveSmall(this.#workspace, small);
    this.#dirty = false;
  }

  /** Writes `.pipe/state`, then the stamp that says it is sorted (a kill between: checked once). */
  async #writeState(pieces: readonly (string | Uint8Array)[]): Promise<void> {
    const path = join(this.#workspace, STATE_FILE);
    await writeFileAtomic(path, pieces);
    const st = statSync(path);
    writeFileSync(
      join(this.#workspace, SORTED_STAMP_FILE),
      `${st.size}\t${st.mtimeMs}\t${st.ino}\n`,
    );
  }

  /** save() for a loaded file that is not sorted (edited by hand): every line into a map, sorted. */
  async #saveSorted(
    changes: readonly { readonly path: string; readonly entry: Entry | null }[],
  ): Promise<void> {
    const all = new Map<string, Entry>();
    const text = this.#text;
    for (let at = 0; at < text.length; ) {
      const end = text.indexOf(NL, at);
      const tab = text.indexOf(TAB, at);
      // path \t size \t mtime \t inode \t sha; the shortest valid rest is `0\t0\t0\t<64 hex>`.
      if (tab > at && tab < end && end - tab > 70)
        all.set(text.toString('utf8', at, tab), text.toString('latin1', tab + 1, end));
      at = end + 1;
    }
    for (const { path, entry } of changes) {
      if (entry === null) all.delete(path);
      else all.set(path, entry);
    }
    const lines = [...all]
      .filter(([path]) => !/[\t\n]/.test(path))
      .map(([path, e]) => ({ key: Buffer.from(path), line: `${path}\t${e}` }))
      .sort((a, b) => Buffer.compare(a.key, b.key))
      .map((x) => x.line);
    const parts = [HEADER, ...lines];
    if (this.#dirty || this.#journal.size > 0) await this.#writeState([`${parts.join('\n')}\n`]);
    const big = this.#folders.names().map((f) => `${f}/`);
    const small = parts.filter((line, i) => i === 0 || !big.some((f) => line.startsWith(f)));
    await writeFileAtomic(join(this.#workspace, SMALL_STATE_FILE), `${small.join('\n')}\n`);
    this.#dirty = false;
  }
}

/**
 * `.pipe/state`'s size if it is the file save() last wrote (so sorted, and ending in a newline),
 * by its size, mtime and inode; else undefined.
 */
function wroteSorted(workspace: string, path: string): { readonly size: number } | undefined {
  let stamp: string;
  try {
    stamp = readFileSync(join(workspace, SORTED_STAMP_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const st = statSync(path, { throwIfNoEntry: false });
  return st !== undefined && stamp === `${st.size}\t${st.mtimeMs}\t${st.ino}\n`
    ? { size: st.size }
    : undefined;
}

/** Writes `.pipe/state-small`: `entries`, sorted by path in byte order. */
async function saveSmall(workspace: string, entries: ReadonlyMap<string, Entry>): Promise<void> {
  const lines = [...entries]
    .map(([path, e]) => ({ key: Buffer.from(path), line: `${path}\t${e}` }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map((x) => x.line);
  await writeFileAtomic(join(workspace, SMALL_STATE_FILE), `${[HEADER, ...lines].join('\n')}\n`);
}

/** `.pipe/state-journal` if it amends the `.pipe/state` on disk (THE JOURNAL); else empty. */
function loadJournal(workspace: string): Map<string, Entry | null> {
  const journal = new Map<string, Entry | null>();
  let text: string;
  try {
    text = readFileSync(join(workspace, STATE_JOURNAL_FILE), 'utf8');
  } catch {
    return journal;
  }
  const st = statSync(join(workspace, STATE_FILE), { throwIfNoEntry: false });
  const header = `${JOURNAL_HEADER}\t${st?.size}\t${st?.mtimeMs}\t${st?.ino}\n`;
  if (st === undefined || !text.startsWith(header)) return journal;
  // A final line cut short is dropped with the rest of what a kill left unwritten.
  const lines = text.slice(header.length, text.lastIndexOf('\n') + 1).split('\n');
  for (const line of lines) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const entry = line.slice(tab + 1);
    journal.set(line.slice(0, tab), entry === '-' ? null : entry);
  }
  return journal;
}

/** Whether the lines' paths (up to the tab) strictly increase in byte order: one pass. */
function linesSorted(text: Buffer): boolean {
  let prev = -1;
  let prevTab = -1;
  for (let at = 0; at < text.length; ) {
    const end = text.indexOf(NL, at);
    const tab = text.indexOf(TAB, at);
    if (tab === -1 || tab > end) return false;
    // Comparing through the tab: "a" (then a tab) sorts before "a b", as the paths do.
    if (prev !== -1 && text.compare(text, prev, prevTab + 1, at, tab + 1) <= 0) return false;
    prev = at;
    prevTab = tab;
    at = end + 1;
  }
  return true;
}

/** The smallest key above every path starting with `prefix` (its last byte + 1). */
function afterPrefix(prefix: string): Buffer {
  const bytes = Buffer.from(prefix);
  bytes[bytes.length - 1]! += 1;
  return bytes;
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
