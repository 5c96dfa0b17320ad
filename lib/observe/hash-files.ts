// Hashes many workspace files: stat each, ask the state cache, read only the misses (in parallel:
// big batches on worker threads, hash-threads.ts; a few with bounded concurrency here).
import { statSync, type Stats } from 'node:fs';
import type { Sha256Hex } from '../util/sha256.js';
import { mapConcurrent } from '../util/worker-pool.js';
import { hashFile } from './hash.js';
import { clockBeforeStats } from './stat-clock.js';
import {
  newHashStats,
  type FileHash,
  type FileStamp,
  type HashCache,
  type HashStats,
  type Miss,
} from './types.js';

/** Reads in flight: enough to keep libuv's 4 threads and the disk queue busy, far below EMFILE. */
const READ_CONCURRENCY = 64;
/**
 * Files at least this big are hashed on worker threads (hash-threads.ts): at 16 MiB the hashing
 * (~15 ms) dwarfs the message round trip (~0.1 ms), and few files are this big.
 */
const THREAD_MIN = 16 << 20;

/**
 * At least this many files to read go to worker threads in batches (hash-threads.ts): sync
 * open/read/close there beats promise readFile's thread-pool round trips (bench/noop-large.ts,
 * cold status); below it the workers' start (~30 ms) is not worth it.
 */
const WORKER_BATCH_MIN = 256;

function stampOf(st: Stats): FileStamp {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
}

/**
 * Hashes workspace-relative files: stat each, ask the cache, read only the misses. The result is
 * in the order of `rels`.
 */
export async function hashFiles(
  workspace: string,
  rels: readonly string[],
  cache: HashCache,
  stats: HashStats = newHashStats(),
): Promise<FileHash[]> {
  const out: FileHash[] = new Array<FileHash>(rels.length);
  const misses: Miss[] = [];
  const statTimeMs = clockBeforeStats(workspace);
  for (let index = 0; index < rels.length; index++) {
    const rel = rels[index]!;
    // `rel` is normalised POSIX (validated in pipeline.yaml, or listed by us): no join needed.
    const abs = `${workspace}/${rel}`;
    // stat, not lstat: a symlinked dep is hashed by its target's content, so its stamp must be too.
    const stamp = stampOf(statSync(abs));
    stats.statted++;
    const known = cache.lookup(abs, stamp);
    if (known !== undefined) out[index] = { path: rel, sha256: known, size: stamp.size };
    else misses.push({ index, abs, stamp });
  }
  await hashMisses(rels, misses, out, cache, stats, statTimeMs);
  return out;
}

/** Reads and hashes `misses`, fills their slots in `out` and tells the cache. */
export async function hashMisses(
  rels: readonly string[],
  misses: readonly Miss[],
  out: FileHash[],
  cache: HashCache,
  stats: HashStats,
  statTimeMs: number,
): Promise<void> {
  const record = (miss: Miss, sha: Sha256Hex): void => {
    stats.hashed++;
    cache.remember(miss.abs, miss.stamp, sha, statTimeMs);
    out[miss.index] = { path: rels[miss.index]!, sha256: sha, size: miss.stamp.size };
  };
  if (misses.length >= WORKER_BATCH_MIN) {
    const { hashFilesOnWorkers } = await import('./hash-threads.js');
    await hashFilesOnWorkers(
      misses.map((m) => m.abs),
      (start, shas) => {
        for (let k = 0; k < shas.length; k++) record(misses[start + k]!, shas[k]!);
      },
    );
    return;
  }
  await mapConcurrent(misses, READ_CONCURRENCY, async (miss) => {
    const sha =
      miss.stamp.size >= THREAD_MIN
        ? await (await import('./hash-threads.js')).hashFileOnWorker(miss.abs)
        : await hashFile(miss.abs, miss.stamp.size);
    record(miss, sha);
  });
}
