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
//   line 1:  `pipe-state 1`
//   then:    `<workspace-relative path>\t<size>\t<mtime ns>\t<inode>\t<sha256>` per file
// Numbers stay strings in memory (compared as strings), so loading parses no BigInts.
import { readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import type { FileStamp, HashCache, Sha256Hex } from './hash.js';

export const STATE_FILE = '.pipe/state';
const HEADER = 'pipe-state 1';

/**
 * 2 s: the coarsest mtime granularity we meet (FAT, some NFS servers) and comfortably more than
 * the clock skew between stat and a same-host write.
 */
export const RACY_WINDOW_MS = 2000;

interface Entry {
  /** `<size>\t<mtime ns>\t<inode>`: one string compare per lookup, exactly as stored on disk. */
  readonly stamp: string;
  readonly sha: Sha256Hex;
}

function stampKey(stamp: FileStamp): string {
  return `${stamp.size}\t${stamp.mtimeNs}\t${stamp.ino}`;
}

export class StateCache implements HashCache {
  readonly #workspace: string;
  /** Keyed by workspace-relative path. */
  readonly #persistent = new Map<string, Entry>();
  /** Racy entries: good for this process, never saved. */
  readonly #session = new Map<string, Entry>();
  #dirty = false;

  private constructor(workspace: string) {
    this.#workspace = workspace;
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
    const lines = text.split('\n');
    if (lines[0] !== HEADER) return cache;
    for (let i = 1; i < lines.length; i++) {
      // path \t size \t mtime \t inode \t sha: split at the first and the last tab only.
      const line = lines[i]!;
      const first = line.indexOf('\t');
      const last = line.lastIndexOf('\t');
      if (first <= 0 || last - first < 5 || line.length - last !== 65) continue;
      cache.#persistent.set(line.slice(0, first), { stamp: line.slice(first + 1, last), sha: line.slice(last + 1) as Sha256Hex });
    }
    return cache;
  }

  get size(): number {
    return this.#persistent.size;
  }

  #key(absPath: string): string {
    // Hot path (once per file per status): a slice, not path.relative.
    const prefix = this.#workspace + sep;
    const rel = absPath.startsWith(prefix) ? absPath.slice(prefix.length) : relative(this.#workspace, absPath);
    return sep === '/' ? rel : rel.split(sep).join('/');
  }

  lookup(absPath: string, stamp: FileStamp): Sha256Hex | undefined {
    const key = this.#key(absPath);
    const entry = this.#session.get(key) ?? this.#persistent.get(key);
    return entry !== undefined && entry.stamp === stampKey(stamp) ? entry.sha : undefined;
  }

  remember(absPath: string, stamp: FileStamp, sha256: Sha256Hex, statTimeMs: number): void {
    const key = this.#key(absPath);
    const entry: Entry = { stamp: stampKey(stamp), sha: sha256 };
    const mtimeMs = Number(stamp.mtimeNs / 1_000_000n);
    if (statTimeMs - mtimeMs > RACY_WINDOW_MS) {
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
      if (!/[\t\n]/.test(path)) parts.push(`${path}\t${e.stamp}\t${e.sha}`);
    }
    await writeFileAtomic(join(this.#workspace, STATE_FILE), parts.join('\n') + '\n');
    this.#dirty = false;
  }
}
