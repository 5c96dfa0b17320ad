// One part of a big folder (folder-parts.ts) walked, statted and digested, and the claiming of
// parts that spreads a folder over threads: every thread given the folder (the workers,
// hash-worker.ts, and the main thread once it has nothing else to do, hash-threads.ts) takes the
// next part from one shared counter until none are left.
import { createHash } from 'node:crypto';
import { isAbsolute, relative } from 'node:path';
import { walkKeys } from './hash.js';
import { statStamp, type Stamp } from './stat-stamp.js';
import { STAMP_FIELDS } from './types.js';

/** A folder's parts to stat, shared by the threads that claim them. */
export interface PartsJob {
  readonly workspace: string;
  /** The folder, workspace-relative. */
  readonly rel: string;
  /** Per part, its keys under `rel` (folder-parts.ts partKeys). */
  readonly parts: readonly (readonly string[])[];
  /** Part digests the caller already has the files of. */
  readonly known: readonly string[];
  /** The order parts are claimed in (biggest first), as indexes into `parts`. */
  readonly order: readonly number[];
  /**
   * One Int32 shared by every thread given this folder: the next position in `order` to claim.
   * A thread that started late or drew small parts does not leave another idle while it
   * finishes a fixed share.
   */
  readonly next: SharedArrayBuffer;
}

/**
 * The job of statting `parts`, as whichever thread listed the folder makes it. Parts are claimed
 * biggest first (by key count; a part's files are not known before it is walked): parts differ in
 * size tenfold (their ends are content-defined), and the biggest left for last would keep one
 * thread busy while the others idle.
 */
export function partsJob(
  workspace: string,
  rel: string,
  parts: readonly (readonly string[])[],
  known: readonly string[],
): PartsJob {
  const order = parts.map((_, i) => i).sort((a, b) => parts[b]!.length - parts[a]!.length || a - b);
  return { workspace, rel, parts, known, order, next: new SharedArrayBuffer(4) };
}

/** One part of a folder as statted. */
export interface PartStamps {
  readonly files: number;
  readonly size: number;
  /**
   * sha256 over the file count, a 0 byte, the paths in path order (UTF-8) each followed by a 0
   * byte, then per file its size, mtime (ms) and inode as little-endian float64s. The paths go in
   * as one string and the numbers as one array: written into a buffer file by file, they cost
   * ~170 ms of a look's ~750 ms of one thread at 241,611 files, the stats themselves ~580.
   */
  readonly digest: string;
  readonly newestMtimeMs: number;
  /** The device its files are on; NaN if on more than one, or none. */
  readonly dev: number;
  /** Only when `digest` is not known: the part's paths, and [size, mtimeMs, ino, dev] per file. */
  readonly changed?: { readonly rels: readonly string[]; readonly stamps: Float64Array };
}

/** The stamp each stat fills, per thread (statPart never runs twice at once on one). */
const ST: Stamp = { size: 0, mtimeMs: 0, ino: 0, dev: 0 };

/**
 * Walks, stats and digests one part. Its paths and stamps are kept only when asked (`keep`): a
 * part whose digest turns out unknown is walked a second time to keep them, which costs less than
 * keeping 100,000 paths alive on every no-op (they would outlive the young generation).
 */
function statPart(
  /** The workspace, as a path to reach it by (fromCwd). */
  workspace: string,
  rel: string,
  keys: readonly string[],
  known: ReadonlySet<string>,
  keep: boolean,
): PartStamps {
  const paths: string[] = [];
  /** size, mtime (ms), inode per file: what the digest covers. */
  const digested: number[] = [];
  const devs: number[] = [];
  let size = 0;
  let newestMtimeMs = -Infinity;
  let dev = Number.NaN;
  const stat = statStamp();
  const st = ST;
  const root = `${workspace}/`;
  walkKeys(workspace, rel, keys, (path) => {
    // stat, not lstat, as in hash.ts hashFiles: a symlink is stamped by its target.
    stat(root + path, st);
    paths.push(path);
    digested.push(st.size, st.mtimeMs, st.ino);
    if (keep) devs.push(st.dev);
    size += st.size;
    if (st.mtimeMs > newestMtimeMs) newestMtimeMs = st.mtimeMs;
    if (st.dev !== dev) dev = paths.length === 1 ? st.dev : Number.NaN;
  });
  const files = paths.length;
  const numbers = Float64Array.from(digested);
  const digest = createHash('sha256')
    .update(`${files}\0${paths.join('\0')}\0`)
    .update(new Uint8Array(numbers.buffer))
    .digest('hex');
  const part = { files, size, digest, newestMtimeMs, dev };
  if (known.has(digest)) return part;
  // The digest and the kept stamps come from the same pass: what is looked up is what is digested.
  if (!keep) return statPart(workspace, rel, keys, known, true);
  const stamps = new Float64Array(STAMP_FIELDS * files);
  for (let k = 0; k < files; k++) {
    stamps[STAMP_FIELDS * k] = numbers[3 * k]!;
    stamps[STAMP_FIELDS * k + 1] = numbers[3 * k + 1]!;
    stamps[STAMP_FIELDS * k + 2] = numbers[3 * k + 2]!;
    stamps[STAMP_FIELDS * k + 3] = devs[k]!;
  }
  return { ...part, changed: { rels: paths, stamps } };
}

/**
 * The workspace as a path from the process's cwd when it is at or below it (`.`, `sub/ws`):
 * the kernel then looks up 3 path components per upload instead of 6 or more, a tenth of a
 * stat's cost. pipe never changes its cwd. Elsewhere: the absolute path.
 */
function fromCwd(workspace: string): string {
  const rel = relative(process.cwd(), workspace);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? workspace : rel;
}

/** A part this worker claimed: its index in the folder's parts, and what it found. */
export interface ClaimedPart {
  readonly index: number;
  readonly part: PartStamps;
}

/** What claiming needs of a job, made once per job and thread (the main thread claims one part
 *  per call: a set of 3,846 known digests made per call cost ~0.3 s at 241,605 uploads). */
interface Claiming {
  readonly known: ReadonlySet<string>;
  readonly root: string;
  readonly next: Int32Array;
}

const claiming = new WeakMap<PartsJob, Claiming>();

function claimingOf(job: PartsJob): Claiming {
  let c = claiming.get(job);
  if (c === undefined) {
    c = { known: new Set(job.known), root: fromCwd(job.workspace), next: new Int32Array(job.next) };
    claiming.set(job, c);
  }
  return c;
}

/** Claims and stats parts of `job` on this thread until none are left, or `one` is. */
export function claimParts(job: PartsJob, one = false): ClaimedPart[] {
  const { known, root, next } = claimingOf(job);
  // Nothing known (a first look): every part is kept in the one pass.
  const keep = known.size === 0;
  const claimed: ClaimedPart[] = [];
  for (let at = Atomics.add(next, 0, 1); at < job.order.length; ) {
    const index = job.order[at]!;
    claimed.push({ index, part: statPart(root, job.rel, job.parts[index]!, known, keep) });
    if (one) break;
    at = Atomics.add(next, 0, 1);
  }
  return claimed;
}
