// `.pipe/state`: file hashes keyed by path + size + mtime (ns) + inode, so a file whose metadata
// has not changed is not read again. Never committed; deleting it only costs one rehash.
//
// THE RACY-FILE RULE (the same problem git calls "racy git"). A filesystem stores mtime with some
// granularity (ext4: ns, but updated from a coarse kernel clock tick; NFS and FAT: 1-2 s). A file
// written again within the tick in which we stat it can keep the same mtime and size while its
// content differs. So an entry is persisted only when the file's mtime is more than
// RACY_WINDOW_MS older than the clock reading taken just before the stat: any later write then
// necessarily gets a later mtime. A file hashed "too soon" is kept for this process only and is
// hashed again next time (by then it is old enough to be trusted). Rehash when in doubt.
//
// The file format is plain text for fast loading of 100,000+ entries without a parser:
//   line 1:  `pipe-state 2`
//   then:    `<workspace-relative path>\t<size>\t<mtime ms>\t<inode>\t<sha256>` per file
// In memory each entry stays the text after the path, compared as a string: loading parses no
// numbers and allocates two strings per file.
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { FileStamp, HashCache, Sha256Hex } from './hash.js';

export const STATE_FILE = '.pipe/state';
const HEADER = 'pipe-state 2';

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
  /** Keyed by workspace-relative path. */
  readonly #persistent = new Map<string, Entry>();
  /** Racy entries: good for this process, never saved. */
  readonly #session = new Map<string, Entry>();
  #dirty = false;

  private constructor(workspace: string) {
    this.#workspace = workspace;
    this.#prefix = workspace + sep;
  }

  /** Loads `.pipe/state`; a missing or unreadable file gives an empty cache (it is only a cache). */
  static load(workspace: string): StateCache {
    const cache = new StateCache(workspace);
    let text: string;
    try {
      text = readFileSync(join(workspace, STATE_FILE), 'utf8');
    } catch {
      return cache;
    }
    if (!text.startsWith(HEADER + '\n')) return cache;
    // One pass with indexOf rather than split(): two strings per line instead of three.
    let pos = HEADER.length + 1;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end === -1) end = text.length;
      const tab = text.indexOf('\t', pos);
      // path \t size \t mtime \t inode \t sha; the shortest valid rest is `0\t0\t0\t<64 hex>`.
      if (tab > pos && tab < end && end - tab > 70) cache.#persistent.set(text.slice(pos, tab), text.slice(tab + 1, end));
      pos = end + 1;
    }
    return cache;
  }

  get size(): number {
    return this.#persistent.size;
  }

  #key(absPath: string): string {
    // Hot path (once per file per status): a slice, not path.relative.
    const rel = absPath.startsWith(this.#prefix) ? absPath.slice(this.#prefix.length) : relative(this.#workspace, absPath);
    return sep === '/' ? rel : rel.split(sep).join('/');
  }

  lookup(absPath: string, stamp: FileStamp): Sha256Hex | undefined {
    const key = this.#key(absPath);
    const entry = this.#session.get(key) ?? this.#persistent.get(key);
    if (entry === undefined) return undefined;
    const want = stampKey(stamp);
    return entry.length === want.length + 64 && entry.startsWith(want) ? (entry.slice(want.length) as Sha256Hex) : undefined;
  }

  remember(absPath: string, stamp: FileStamp, sha256: Sha256Hex, statTimeMs: number): void {
    const key = this.#key(absPath);
    const entry: Entry = stampKey(stamp) + sha256;
    if (statTimeMs - stamp.mtimeMs > RACY_WINDOW_MS) {
      this.#persistent.set(key, entry);
      this.#session.delete(key);
    } else {
      this.#session.set(key, entry);
      // A stale persistent entry for this path must not outlive the new content.
      this.#persistent.delete(key);
    }
    this.#dirty = true;
  }

  /** Writes `.pipe/state` atomically if anything changed. */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    const parts: string[] = [HEADER];
    for (const [path, e] of this.#persistent) {
      // A name with a tab or newline cannot be stored in this format; it is simply rehashed.
      if (!/[\t\n]/.test(path)) parts.push(`${path}\t${e}`);
    }
    await writeFileAtomic(join(this.#workspace, STATE_FILE), parts.join('\n') + '\n');
    this.#dirty = false;
  }
}
