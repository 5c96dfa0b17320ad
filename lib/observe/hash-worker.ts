// Worker side of hash-threads.ts. Each request is one of:
//   hash: sha256 of a batch of files, one after another, read in 1 MiB chunks with synchronous
//         reads (this thread has nothing else to do, and for small files a sync open/read/close
//         costs a fraction of a promise-based readFile's thread-pool round trips);
//   list: the sorted files under a folder (hash.ts listFolder);
//   stat: the stamps of a chunk of files, as [size, mtimeMs, ino, dev] per file in a Float64Array
//         handed over without copying, with the chunk's stamp digest (hash-folder.ts) and its
//         newest mtime;
//   digest: a whole folder listed and statted here, answering only its stamps digest (as
//         hash-folder.ts combines the stat batches' digests) and its newest mtime: no path or
//         stamp crosses threads, so on a no-op build each big folder costs one worker's walk.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { stampsDigest } from './folder-stamps.js';
import { listFolder, walkFolder } from './hash.js';
import { STAMP_FIELDS } from './types.js';

export type Request =
  | { readonly id: number; readonly op: 'hash'; readonly paths: readonly string[] }
  | { readonly id: number; readonly op: 'list'; readonly workspace: string; readonly rel: string }
  | {
      readonly id: number;
      readonly op: 'stat';
      readonly workspace: string;
      readonly rels: readonly string[];
    }
  | {
      readonly id: number;
      readonly op: 'digest';
      readonly workspace: string;
      readonly rel: string;
      readonly batch: number;
      readonly expected: string;
    };

const buffer = Buffer.allocUnsafe(1 << 20);

function hashOne(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer))
      hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export interface StampBatch {
  readonly stamps: Float64Array;
  /** sha256 over `<rel>\t<size>\t<mtime ms>\t<inode>\n` per file, in order. */
  readonly digest: string;
  readonly newestMtimeMs: number;
}

function stampBatch(workspace: string, rels: readonly string[]): StampBatch {
  const stamps = new StampLines(workspace, rels.length);
  for (const rel of rels) stamps.add(rel);
  return stamps.done();
}

/** One batch's stamps and the lines its digest is taken over, file by file. */
class StampLines {
  readonly #workspace: string;
  readonly #stamps: Float64Array;
  #count = 0;
  #lines = '';
  #newestMtimeMs = -Infinity;

  constructor(workspace: string, capacity: number) {
    this.#workspace = workspace;
    this.#stamps = new Float64Array(capacity * STAMP_FIELDS);
  }

  get full(): boolean {
    return this.#count * STAMP_FIELDS === this.#stamps.length;
  }

  add(rel: string): void {
    // stat, not lstat, as in hash.ts hashFiles: a symlink is stamped by its target.
    const st = statSync(`${this.#workspace}/${rel}`);
    const at = STAMP_FIELDS * this.#count++;
    this.#stamps[at] = st.size;
    this.#stamps[at + 1] = st.mtimeMs;
    this.#stamps[at + 2] = st.ino;
    this.#stamps[at + 3] = st.dev;
    if (st.mtimeMs > this.#newestMtimeMs) this.#newestMtimeMs = st.mtimeMs;
    this.#lines += `${rel}\t${st.size}\t${st.mtimeMs}\t${st.ino}\n`;
  }

  done(): StampBatch {
    return {
      stamps: this.#stamps.subarray(0, this.#count * STAMP_FIELDS),
      digest: createHash('sha256').update(this.#lines).digest('hex'),
      newestMtimeMs: this.#newestMtimeMs,
    };
  }
}

export interface FolderDigest {
  readonly files: number;
  /** stampsDigest over the folder's batches of `batch` files, in path order. */
  readonly stamps: string;
  /** Only when `stamps` is not the digest expected: the listing and its stamp batches, so the
   *  caller looks the files up without walking the folder a second time. */
  readonly changed?: { readonly rels: readonly string[]; readonly batches: readonly StampBatch[] };
}

/**
 * Walks, stats and digests in one pass, each file as the walk finds it (hash.ts walkFolder, in
 * sorted order), so no sorted copy of the listing is made and a batch's lines are dropped once
 * digested.
 */
function digestFolder(
  workspace: string,
  rel: string,
  batch: number,
  expected: string,
): FolderDigest {
  const rels: string[] = [];
  const batches: StampBatch[] = [];
  let open = new StampLines(workspace, batch);
  walkFolder(workspace, rel, (path) => {
    rels.push(path);
    open.add(path);
    if (open.full) {
      batches.push(open.done());
      open = new StampLines(workspace, batch);
    }
  });
  if (rels.length % batch !== 0) batches.push(open.done());
  const stamps = stampsDigest(
    rels.length,
    batches.map((b) => b.digest),
  );
  return stamps === expected
    ? { files: rels.length, stamps }
    : { files: rels.length, stamps, changed: { rels, batches } };
}

parentPort!.on('message', (request: Request) => {
  try {
    if (request.op === 'hash')
      parentPort!.postMessage({ id: request.id, result: request.paths.map(hashOne) });
    else if (request.op === 'list')
      parentPort!.postMessage({
        id: request.id,
        result: listFolder(request.workspace, request.rel),
      });
    else if (request.op === 'digest') {
      const result = digestFolder(request.workspace, request.rel, request.batch, request.expected);
      parentPort!.postMessage(
        { id: request.id, result },
        (result.changed?.batches ?? []).map((b) => b.stamps.buffer as ArrayBuffer),
      );
    } else {
      const result = stampBatch(request.workspace, request.rels);
      parentPort!.postMessage({ id: request.id, result }, [result.stamps.buffer as ArrayBuffer]);
    }
  } catch (error) {
    parentPort!.postMessage({
      id: request.id,
      error: (error as Error).message,
      code: (error as NodeJS.ErrnoException).code,
    });
  }
});
