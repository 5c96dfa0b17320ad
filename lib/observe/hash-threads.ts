// Work spread over worker threads, one per core (hash-worker.ts does it):
//   - hashing: node:crypto's sha256 runs on the thread that calls it (one thread tops out near
//     1.1 GB/s), and for many small files the cost is the open/read/close, which a worker does
//     synchronously, with no promise and thread-pool round trip per call. One big file (>= 16 MiB)
//     per request, or batches of small ones (a download's 241,605 uploads after it ran);
//   - walking and statting a very big folder (hash-folder.ts): the way git's preloadIndex spreads
//     lstat over threads, so a no-op build's stats run on both cores while this thread looks the
//     stamps up in the state cache.
// Batches, not single files, per message: the round trip (~0.1 ms) is paid once per batch, and
// two batches are in flight per worker so none idles.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Sha256Hex } from '../util/sha256.js';
import type { FolderDigest, Request, StampBatch } from './hash-worker.js';

type Reply = { id: number; result?: unknown; error?: string; code?: string };
type Body = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;
/** Requests in flight per worker: a worker holds the process open only while it has some. */
const inFlight = new Map<Worker, number>();

let workers: Worker[] | undefined;
let next = 0;
let nextId = 0;
const pending = new Map<
  number,
  { resolve: (result: unknown) => void; reject: (e: Error) => void }
>();

/** Paths per hash message: ~10 ms of work for 10 KB files, small next to the round trip. */
const HASH_BATCH = 256;
/** Paths per stat message: ~20 ms of stats. Part of the stamp digest's definition (hash-folder.ts). */
export const STAT_BATCH = 8192;
/**
 * Workers idle this long are stopped: each holds tens of MB (its heap after 241,605 stats), and a
 * build's workers are idle for minutes while a stage runs. Starting them again costs ~30 ms.
 */
const IDLE_STOP_MS = 1000;
let idleTimer: NodeJS.Timeout | undefined;

function stopWhenIdle(): void {
  clearTimeout(idleTimer);
  if (pending.size > 0) return;
  idleTimer = setTimeout(() => {
    const stopping = workers ?? [];
    workers = undefined;
    inFlight.clear();
    for (const w of stopping) void w.terminate();
  }, IDLE_STOP_MS);
  idleTimer.unref();
}

function pool(): Worker[] {
  if (workers === undefined) {
    workers = Array.from({ length: availableParallelism() }, () => {
      const w = new Worker(new URL('./hash-worker.js', import.meta.url));
      w.on('message', (reply: Reply) => {
        const left = (inFlight.get(w) ?? 1) - 1;
        inFlight.set(w, left);
        if (left === 0) w.unref();
        const waiter = pending.get(reply.id);
        pending.delete(reply.id);
        if (reply.error === undefined) waiter?.resolve(reply.result);
        else waiter?.reject(Object.assign(new Error(reply.error), { code: reply.code }));
        stopWhenIdle();
      });
      w.unref(); // idle workers never keep pipe alive
      return w;
    });
  }
  return workers;
}

function request<T>(body: Body): Promise<T> {
  clearTimeout(idleTimer);
  const all = pool();
  const worker = all[next++ % all.length]!;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
    inFlight.set(worker, (inFlight.get(worker) ?? 0) + 1);
    worker.ref();
    worker.postMessage({ id, ...body });
  });
}

/** `items` in batches of `size`, two requests in flight per worker; `onBatch` as each arrives. */
async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  ask: (batch: T[]) => Promise<R>,
  onBatch: (start: number, result: R) => void,
): Promise<void> {
  let start = 0;
  const lane = async (): Promise<void> => {
    while (start < items.length) {
      const from = start;
      start += size;
      onBatch(from, await ask(items.slice(from, from + size)));
    }
  };
  await Promise.all(Array.from({ length: 2 * pool().length }, lane));
}

/** sha256 of a file, computed on a worker thread (round-robin over one worker per core). */
export async function hashFileOnWorker(absPath: string): Promise<Sha256Hex> {
  return (await request<Sha256Hex[]>({ op: 'hash', paths: [absPath] }))[0]!;
}

/** sha256 of each file, computed on the workers in batches; `onBatch(start, shas)` as they come. */
export function hashFilesOnWorkers(
  absPaths: readonly string[],
  onBatch: (start: number, shas: readonly Sha256Hex[]) => void,
): Promise<void> {
  return inBatches(
    absPaths,
    HASH_BATCH,
    (paths) => request<Sha256Hex[]>({ op: 'hash', paths }),
    onBatch,
  );
}

/** hash.ts listFolder, run on a worker. */
export function listFolderOnWorker(workspace: string, rel: string): Promise<string[]> {
  return request<string[]>({ op: 'list', workspace, rel });
}

/** Stamps of workspace-relative files, on the workers, in STAT_BATCH batches: `onBatch(start, batch)`. */
export function statOnWorkers(
  workspace: string,
  rels: readonly string[],
  onBatch: (start: number, batch: StampBatch) => void,
): Promise<void> {
  return inBatches(
    rels,
    STAT_BATCH,
    (batch) => request<StampBatch>({ op: 'stat', workspace, rels: batch }),
    onBatch,
  );
}

/**
 * A big folder's stamps digest, listed and statted on one worker (hash-worker.ts digestFolder);
 * with its listing and stamps too when the digest is not `expected`.
 */
export function digestFolderOnWorker(
  workspace: string,
  rel: string,
  expected: string,
): Promise<FolderDigest> {
  return request<FolderDigest>({ op: 'digest', workspace, rel, batch: STAT_BATCH, expected });
}
