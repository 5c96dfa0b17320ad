// The per-file work of mirroring a file:// upload folder into data/raw, on worker threads
// (file-mirror.ts starts them; for a few uploads it runs this on its own thread). Each thread
// claims chunks of the sorted path list from a shared counter, so a thread slowed by a busy core
// simply claims fewer, and writes each upload's size and sha256 into shared arrays at the upload's
// index: no per-file messages between threads.
//
// Per upload, the bytes are read once, on the thread that hashes them, with synchronous calls:
// at a quarter million small files, a libuv round trip per call costs more than the call.
//   - Same filesystem: hard-link the upload into the temp data/raw, then hash what the link
//     holds. A link costs no new inode: creating a quarter million inodes, and freeing them when
//     data/raw is replaced, is most of a copy's cost on ext4 (bench/results/download-large.md,
//     "copy"). The hash describes exactly the bytes data/raw holds.
//   - Another filesystem (EXDEV) or links refused: read and hash the upload; if the previous
//     manifest has the same sha256 and the previous data/raw copy is there at that size,
//     hard-link that copy; otherwise write the bytes just read (`wx`: never over another file).
// A linked data/raw file IS the upload: an upload edited in place (not replaced by rename) changes
// in data/raw too, until the next build re-runs download (the runner sees its out changed).
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';

/** Everything a thread needs, as plain data and shared buffers, so it crosses as workerData. */
export interface MirrorJob {
  /** The upload folder. */
  readonly root: string;
  /** The temp data/raw; every upload's parent folder already exists in it. */
  readonly out: string;
  /** The last good data/raw (may be missing). */
  readonly previousRoot: string;
  /** Upload paths relative to `root`, sorted. */
  readonly paths: readonly string[];
  /** Per path: the sha256 the previous manifest recorded for it, '' when it was not there. */
  readonly previousSha256: readonly string[];
  /** Int32 [next unclaimed index, failed flag]. */
  readonly control: SharedArrayBuffer;
  /** Float64 per path: its size in bytes. */
  readonly sizes: SharedArrayBuffer;
  /** 32 bytes per path: its sha256. */
  readonly digests: SharedArrayBuffer;
}

/** A thread's outcome: undefined when every claimed upload was mirrored. */
export type ThreadReport = { readonly failedPath: string; readonly message: string } | undefined;

const CHUNK = 32;
const NEXT = 0;
const FAILED = 1;
/** link(2) errors that mean "copy instead", not "this upload is unreadable". */
const CANNOT_LINK = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/** Mirrors uploads until none is left unclaimed or another thread failed. */
export function mirrorClaimedUploads(job: MirrorJob): ThreadReport {
  const control = new Int32Array(job.control);
  const sizes = new Float64Array(job.sizes);
  const digests = new Uint8Array(job.digests);
  const mirror = new UploadMirror(job);
  while (Atomics.load(control, FAILED) === 0) {
    const start = Atomics.add(control, NEXT, CHUNK);
    if (start >= job.paths.length) return undefined;
    for (let i = start; i < Math.min(start + CHUNK, job.paths.length); i++) {
      try {
        const placed = mirror.place(i);
        sizes[i] = placed.size;
        digests.set(placed.sha256, i * 32);
      } catch (error) {
        Atomics.store(control, FAILED, 1);
        return { failedPath: job.paths[i]!, message: (error as Error).message };
      }
    }
  }
  return undefined;
}

class UploadMirror {
  readonly #job: MirrorJob;
  readonly #reader = new WholeFileReader();
  /** Hard links work from the upload folder into data/raw, until one says otherwise. */
  #linking = true;

  constructor(job: MirrorJob) {
    this.#job = job;
  }

  /** Puts upload `i` into the temp data/raw; returns the size and sha256 of what it holds there. */
  place(i: number): { size: number; sha256: Buffer } {
    const path = this.#job.paths[i]!;
    const source = join(this.#job.root, path);
    const destination = join(this.#job.out, path);
    if (this.#linking) {
      try {
        linkSync(source, destination);
        return hashed(this.#reader.read(destination));
      } catch (error) {
        if (!CANNOT_LINK.has(codeOf(error))) throw error;
        // EMLINK is one inode's link limit; the others hold for the whole folder.
        if (codeOf(error) !== 'EMLINK') this.#linking = false;
      }
    }
    const bytes = this.#reader.read(source);
    const placed = hashed(bytes);
    if (!this.#linkedPrevious(i, placed, destination))
      writeFileSync(destination, bytes, { flag: 'wx' });
    return placed;
  }

  /** Links the previous data/raw copy of upload `i` when the manifest says it is unchanged. */
  #linkedPrevious(
    i: number,
    placed: { size: number; sha256: Buffer },
    destination: string,
  ): boolean {
    const previous = this.#job.previousSha256[i];
    if (previous === '' || placed.sha256.toString('hex') !== previous) return false;
    const before = join(this.#job.previousRoot, this.#job.paths[i]!);
    // The size check guards against a previous copy cut short; its content is the runner's to vouch for.
    if (statSync(before, { throwIfNoEntry: false })?.size !== placed.size) return false;
    try {
      linkSync(before, destination);
      return true;
    } catch {
      return false; // another filesystem, a link limit: write the bytes instead
    }
  }
}

/** Reads whole files into one growing buffer, so a quarter million reads allocate nothing. */
class WholeFileReader {
  #buffer = Buffer.allocUnsafe(1 << 20);

  /** The file's bytes, valid until the next read. The size is the one fstat gave at open. */
  read(path: string): Buffer {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.#buffer.length) this.#buffer = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const got = readSync(fd, this.#buffer, filled, size - filled, filled);
        if (got === 0) break; // shrank while we read: keep what is there
        filled += got;
      }
      return this.#buffer.subarray(0, filled);
    } finally {
      closeSync(fd);
    }
  }
}

function hashed(bytes: Buffer): { size: number; sha256: Buffer } {
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest() };
}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? '';
}

/** The worker's entry (see file-mirror.ts, which imports this module in each worker). */
export function workerMain(): void {
  parentPort!.postMessage(mirrorClaimedUploads(workerData as MirrorJob));
}
