// `.pipe/folders`: per big declared folder, its hash as it was when its files' stamps (path, size,
// mtime, inode) were taken, and a digest of those stamps PER PART of the folder (folder-parts.ts
// says what a part is). A no-op build at 241,605 uploads still stats every file (on worker
// threads, hash-folder.ts), but when every part's stamps digest to the stored value no file is
// looked up one by one: the folder hashes as before, and the per-file state (state-cache.ts,
// 75 MB at that size) is never even loaded. When one part differs, only its files are looked up;
// the others' lines are copied from the stored manifest (the per-part byte counts say where).
//
// The same racy-file rule as state-cache.ts, per part: a part's digest is stored only when its
// newest mtime is older than the clock reading taken before the stats (stat-clock.ts)
// (otherwise UNTRUSTED, which matches nothing), so a later write within the same mtime tick cannot
// leave a digest unchanged. Plain text:
//   line 1:  `pipe-folders 4`
//   then:    `<folder>\t<stamps>\t<manifest sha256>\t<size>\t<files>\t<parts>` per folder, where
//            <stamps> is stampsDigest over the parts and <parts> is, per part in path order,
//            `<digest>:<files>:<size>:<manifest bytes>` joined by `,`
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readCacheLines } from '../util/cache-file.js';
import type { Sha256Hex } from '../util/sha256.js';

export const FOLDERS_FILE = '.pipe/folders';
const HEADER = 'pipe-folders 4';

/** The digest of a part whose stamps were racy when taken: equal to no digest a worker makes. */
export const UNTRUSTED = '-';

/** A folder's `stamps` digest: its file count, then each part's stamps digest, one per line. */
export function stampsDigest(files: number, partDigests: readonly string[]): Sha256Hex {
  return createHash('sha256')
    .update(`${files}\n${partDigests.join('\n')}`)
    .digest('hex') as Sha256Hex;
}

/** One part of a folder as its stamps were taken. */
export interface PartEntry {
  /** The part's stamps digest (part-stamps.ts PartStamps), or UNTRUSTED. */
  readonly digest: string;
  readonly files: number;
  /** Bytes of data in its files. */
  readonly size: number;
  /** Bytes of its lines in the folder's manifest text (hash.ts manifestChunks). */
  readonly bytes: number;
}

export interface FolderEntry {
  /** stampsDigest over the parts' digests. */
  readonly stamps: Sha256Hex;
  /** The folder's manifest hash, total size and file count when the stamps were taken. */
  readonly sha256: Sha256Hex;
  readonly size: number;
  readonly files: number;
  /** In path order; together they are the whole folder and its whole manifest text. */
  readonly parts: readonly PartEntry[];
}

export class FolderStamps {
  readonly #entries = new Map<string, FolderEntry>();
  #dirty = false;

  /** Loads `.pipe/folders`; missing or unreadable gives no entries (it is only a cache). */
  static load(workspace: string): FolderStamps {
    const stamps = new FolderStamps();
    for (const line of readCacheLines(join(workspace, FOLDERS_FILE), HEADER) ?? []) {
      const [folder, digest, sha256, size, files, parts] = line.split('\t');
      if (parts === undefined || !/^[0-9a-f]{64}$/.test(digest!) || !/^[0-9a-f]{64}$/.test(sha256!))
        continue;
      const entry = {
        stamps: digest as Sha256Hex,
        sha256: sha256 as Sha256Hex,
        size: Number(size),
        files: Number(files),
        parts: parseParts(parts),
      };
      if (consistent(entry)) stamps.#entries.set(folder!, entry);
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
      .map(
        ([folder, e]) =>
          `${folder}\t${e.stamps}\t${e.sha256}\t${e.size}\t${e.files}\t` +
          e.parts.map((p) => `${p.digest}:${p.files}:${p.size}:${p.bytes}`).join(','),
      );
    await writeFileAtomic(join(workspace, FOLDERS_FILE), `${[HEADER, ...lines].join('\n')}\n`);
    this.#dirty = false;
  }
}

function parseParts(text: string): PartEntry[] {
  if (text === '') return [];
  return text.split(',').map((p) => {
    const [digest, files, size, bytes] = p.split(':');
    return { digest: digest!, files: Number(files), size: Number(size), bytes: Number(bytes) };
  });
}

/** Whether the parts add up to the folder (a hand-edited or cut line is dropped, not trusted). */
function consistent(e: FolderEntry): boolean {
  let files = 0;
  let size = 0;
  for (const p of e.parts) {
    if (!(p.digest === UNTRUSTED || /^[0-9a-f]{64}$/.test(p.digest))) return false;
    if (![p.files, p.size, p.bytes].every((n) => Number.isSafeInteger(n) && n >= 0)) return false;
    files += p.files;
    size += p.size;
  }
  return files === e.files && size === e.size;
}

function sameEntry(a: FolderEntry | undefined, b: FolderEntry): boolean {
  return (
    a !== undefined &&
    a.stamps === b.stamps &&
    a.sha256 === b.sha256 &&
    a.size === b.size &&
    a.files === b.files &&
    a.parts.length === b.parts.length &&
    a.parts.every((p, i) => p.digest === b.parts[i]!.digest && p.bytes === b.parts[i]!.bytes)
  );
}
