// Work spread over worker threads, one per core (hash-worker.ts does it):
//   - hashing: node:crypto's sha256 runs on the thread that calls it (one thread tops out near
//     1.1 GB/s), and for many small files the cost is the open/read/close, which a worker does
//     synchronously, with no promise and thread-pool round trip per call. One big file (>= 16 MiB)
//     per request, or batches of small ones (a download's 241,605 uploads after it ran);
//   - walking and statting a very big folder (hash-folder.ts), a few of its parts per request: the
//     way git's preloadIndex spreads lstat over threads, so a no-op's stats run on both cores.
// Workers start as requests need them (a request goes to an idle worker, a new one while there
// are fewer than cores): one request never pays for starting a second worker (~40 ms of CPU).
// Batches, not single files, per message: the round trip (~0.1 ms) is paid once per batch, and
// two batches are in flight per worker so none idles.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Sha256Hex } from '../util/sha256.js';
import type { PartStamps, Request } from './hash-worker.js';

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
/** Requests per worker a folder's parts are spread over: enough that none idles at the end. */
const PART_REQUESTS_PER_WORKER = 4;
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

function start(): Worker {
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
}

/** An idle worker; else a new one while there are fewer than cores; else the next in turn. */
function pick(): Worker {
  workers ??= [];
  const idle = workers.find((w) => (inFlight.get(w) ?? 0) === 0);
  if (idle !== undefined) return idle;
  if (workers.length < availableParallelism()) {
    const w = start();
    workers.push(w);
    return w;
  }
  return workers[next++ % workers.length]!;
}

/**
 * Sends `body` to a worker. `held`: whether the worker keeps the process alive until it answers;
 * a prefetch (hash-folder.ts) is not held until someone waits for it (`hold`).
 */
function send<T>(body: Body, held = true): { promise: Promise<T>; hold: () => void } {
  clearTimeout(idleTimer);
  const worker = pick();
  const id = nextId++;
  const promise = new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
    inFlight.set(worker, (inFlight.get(worker) ?? 0) + 1);
    if (held) worker.ref();
    worker.postMessage({ id, ...body });
  });
  return {
    promise,
    hold: () => {
      if (pending.has(id)) worker.ref();
    },
  };
}

function request<T>(body: Body): Promise<T> {
  return send<T>(body).promise;
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
  await Promise.all(Array.from({ length: 2 * availableParallelism() }, lane));
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

/**
 * The parts of a big folder (folder-parts.ts), statted on the workers a few parts per request:
 * per part its stamps digest, and its paths and stamps when the digest is not in `known`. In part
 * order. `held` false: the requests do not keep the process alive until `hold()` is called.
 */
export function statPartsOnWorkers(
  workspace: string,
  rel: string,
  parts: readonly (readonly string[])[],
  known: readonly string[],
  held = true,
): { promise: Promise<PartStamps[]>; hold: () => void } {
  const per = Math.max(
    1,
    Math.ceil(parts.length / (PART_REQUESTS_PER_WORKER * availableParallelism())),
  );
  const sent: { promise: Promise<PartStamps[]>; hold: () => void }[] = [];
  for (let from = 0; from < parts.length; from += per) {
    const body = { op: 'parts', workspace, rel, parts: parts.slice(from, from + per), known };
    sent.push(send<PartStamps[]>(body as Body, held));
  }
  return {
    promise: Promise.all(sent.map((s) => s.promise)).then((results) => results.flat()),
    hold: () => {
      for (const s of sent) s.hold();
    },
  };
}
