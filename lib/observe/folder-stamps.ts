// `.pipe/folders`: per big declared folder, a digest of every file's stamp (path, size, mtime,
// inode) and the folder's hash as it was when the stamps were taken. A no-op build at 241,605
// uploads still stats every file (on worker threads, hash-folder.ts), but when the stamps digest
// to the stored value no file is looked up one by one: the folder hashes as before. The per-file
// state (state-cache.ts, 75 MB at that size) is then never even loaded.
//
// The same racy-file rule as state-cache.ts: an entry is stored only when the folder's newest
// mtime is more than RACY_WINDOW_MS older than the clock reading taken before the stats, so a
// later write within the same mtime tick cannot leave the digest unchanged. Plain text:
//   line 1:  `pipe-folders 1`
//   then:    `<folder>\t<stamps digest>\t<manifest sha256>\t<size>\t<files>` per folder
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readCacheLines } from '../util/cache-file.js';
import type { Sha256Hex } from '../util/sha256.js';

export const FOLDERS_FILE = '.pipe/folders';
const HEADER = 'pipe-folders 1';

/**
 * A folder's `stamps` digest: its file count, then the digest of each batch of stamps (hash-worker.ts
 * stampBatch, batches of hash-threads.ts STAT_BATCH files in path order), one per line.
 */
export function stampsDigest(files: number, batchDigests: readonly string[]): Sha256Hex {
  return createHash('sha256')
    .update(`${files}\n${batchDigests.join('\n')}`)
    .digest('hex') as Sha256Hex;
}

export interface FolderEntry {
  /** sha256 over the folder's file stamps (hash-folder.ts says how). */
  readonly stamps: Sha256Hex;
  /** The folder's manifest hash, total size and file count when the stamps were taken. */
  readonly sha256: Sha256Hex;
  readonly size: number;
  readonly files: number;
}

export class FolderStamps {
  readonly #entries = new Map<string, FolderEntry>();
  #dirty = false;

  /** Loads `.pipe/folders`; missing or unreadable gives no entries (it is only a cache). */
  static load(workspace: string): FolderStamps {
    const stamps = new FolderStamps();
    for (const line of readCacheLines(join(workspace, FOLDERS_FILE), HEADER) ?? []) {
      const [folder, digest, sha256, size, files] = line.split('\t');
      if (files === undefined || !/^[0-9a-f]{64}$/.test(digest!) || !/^[0-9a-f]{64}$/.test(sha256!))
        continue;
      stamps.#entries.set(folder!, {
        stamps: digest as Sha256Hex,
        sha256: sha256 as Sha256Hex,
        size: Number(size),
        files: Number(files),
      });
    }
    return stamps;
  }

  /** The folders with an entry. */
  names(): string[] {
    return [...this.#entries.keys()];
  }

  get(folder: string): FolderEntry | undefined {
    return this.#entries.get(folder);
  }

  /** Records (or, with undefined, forgets) what `folder` hashed to with these stamps. */
  set(folder: string, entry: FolderEntry | undefined): void {
    if (
      entry === undefined ? !this.#entries.has(folder) : sameEntry(this.#entries.get(folder), entry)
    )
      return;
    if (entry === undefined) this.#entries.delete(folder);
    else this.#entries.set(folder, entry);
    this.#dirty = true;
  }

  async save(workspace: string): Promise<void> {
    if (!this.#dirty) return;
    const lines = [...this.#entries]
      .filter(([folder]) => !/[\t\n]/.test(folder))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([folder, e]) => `${folder}\t${e.stamps}\t${e.sha256}\t${e.size}\t${e.files}`);
    await writeFileAtomic(join(workspace, FOLDERS_FILE), `${[HEADER, ...lines].join('\n')}\n`);
    this.#dirty = false;
  }
}

function sameEntry(a: FolderEntry | undefined, b: FolderEntry): boolean {
  return (
    a !== undefined &&
    a.stamps === b.stamps &&
    a.sha256 === b.sha256 &&
    a.size === b.size &&
    a.files === b.files
  );
}
