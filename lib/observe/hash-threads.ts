// Work spread over worker threads, one per core (hash-worker.ts does it):
//   - hashing: node:crypto's sha256 runs on the thread that calls it (one thread tops out near
//     1.1 GB/s), and for many small files the cost is the open/read/close, which a worker does
//     synchronously, with no promise and thread-pool round trip per call. One big file (>= 16 MiB)
//     per request, or batches of small ones (a download's 241,605 uploads after it ran);
//   - walking and statting a very big folder (hash-folder.ts), its parts claimed one by one by
//     every worker: the way git's preloadIndex spreads lstat over threads, so a no-op's stats run
//     on both cores.
// Workers start as requests need them (a request goes to an idle worker, a new one while there
// are fewer than cores): one request never pays for starting a second worker (~40 ms of CPU).
// Batches, not single files, per message: the round trip (~0.1 ms) is paid once per batch, and
// two batches are in flight per worker so none idles.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Sha256Hex } from '../util/sha256.js';
import { folderParts } from './folder-parts.js';
import type { Listed, Request } from './hash-worker.js';
import {
  claimParts,
  partsJob,
  type ClaimedPart,
  type PartsJob,
  type PartStamps,
} from './part-stamps.js';

type Reply = { id: number; result?: unknown; listed?: Listed; error?: string; code?: string };
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
/** For a `list` request in flight: what to do with its `listed` message. */
const onListed = new Map<number, (listed: Listed) => void>();

/** Paths per hash message: ~10 ms of work for 10 KB files, small next to the round trip. */
const HASH_BATCH = 256;
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
    if (reply.listed !== undefined) {
      onListed.get(reply.id)?.(reply.listed);
      onListed.delete(reply.id);
      return;
    }
    const left = (inFlight.get(w) ?? 1) - 1;
    inFlight.set(w, left);
    if (left === 0) w.unref();
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    onListed.delete(reply.id);
    if (reply.error === undefined) waiter?.resolve(reply.result);
    else waiter?.reject(Object.assign(new Error(reply.error), { code: reply.code }));
    stopWhenIdle();
  });
  w.unref(); // idle workers never keep pipe alive
  return w;
}

/** Files statted in about the CPU time a worker's start costs (~30 ms): fewer do not pay for one. */
const FILES_PER_WORKER_START = 10_000;

/**
 * Workers a big folder's parts are sent to: one per core but one, since the main thread claims
 * parts too once it waits for them (statPartsOnWorkers). A worker of its own for that core
 * would cost its start and its heap (~30 ms, ~10 MB), and on a loaded machine the third thread
 * on two cores only competes with the others.
 */
function partWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Starts workers now, idle, for a folder of about `files` files about to be sent: partWorkers,
 * but none that would get fewer files than its start costs. A worker takes ~30 ms to start,
 * which then passes while the caller lists the folder.
 */
export function startWorkers(files: number): void {
  const wanted = Math.min(partWorkers(), Math.ceil(files / FILES_PER_WORKER_START));
  workers ??= [];
  while (workers.length < wanted) workers.push(start());
}

/** A worker with nothing to do, started if there are fewer than partWorkers; else none. */
function idleWorker(): Worker | undefined {
  workers ??= [];
  const idle = workers.find((w) => (inFlight.get(w) ?? 0) === 0);
  if (idle !== undefined || workers.length >= partWorkers()) return idle;
  const w = start();
  workers.push(w);
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
function send<T>(
  body: Body,
  held = true,
  worker = pick(),
): { id: number; promise: Promise<T>; hold: () => void } {
  clearTimeout(idleTimer);
  const id = nextId++;
  const promise = new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
    inFlight.set(worker, (inFlight.get(worker) ?? 0) + 1);
    if (held) worker.ref();
    worker.postMessage({ id, ...body });
  });
  return {
    id,
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

type Parts = readonly (readonly string[])[];

/** The look at a big folder's parts that statPartsOnWorkers started. */
export interface PartsLook {
  /** The folder's parts (folder-parts.ts), once it is listed. */
  readonly parts: Promise<Parts>;
  /** Per part its stamps, in part order, once every part is statted. */
  readonly promise: Promise<PartStamps[]>;
  /** Makes the requests keep the process alive (a prefetch's are not, until claimed). */
  readonly hold: () => void;
  /**
   * Claims parts on this thread too until none are left, one per macrotask: for a caller about
   * to wait for `promise`, whose thread would otherwise idle.
   */
  readonly help: () => Promise<void>;
}

/**
 * The parts of a big folder (folder-parts.ts), statted on the workers and, once `help` is called,
 * on this thread: per part its stamps digest, and its paths and stamps when the digest is not in
 * `known`. `held` false: the requests do not keep the process alive until `hold()` is called.
 *
 * WHO LISTS the folder: `parts` when the caller has them; `here`: this thread, before it returns;
 * `idle-worker`: an idle worker, which then stats them too, while this thread goes on (with the
 * build's two big folders, uploads and data/raw, each thread lists one at once: ~0.5 s each at
 * 241,605 uploads), or this thread if every worker is busy. A folder listed on a worker costs
 * its names' trip back (~0.1 s of CPU at 100,000): for one folder alone, `here` is cheaper.
 *
 * Every thread then claims parts from one shared counter, biggest first (part-stamps.ts partsJob):
 * a fixed share per worker left one worker statting a third of the folder alone while the other
 * sat idle.
 */
export function statPartsOnWorkers(
  workspace: string,
  rel: string,
  known: readonly string[],
  held = true,
  parts: Parts | 'here' | 'idle-worker' = 'idle-worker',
): PartsLook {
  let isHeld = held;
  const holds: (() => void)[] = [];
  const ask = (body: Body, worker?: Worker) => {
    const sent = send<ClaimedPart[]>(body, isHeld, worker);
    holds.push(sent.hold);
    return sent;
  };
  const lister = parts === 'idle-worker' ? idleWorker() : undefined;
  let job: Promise<PartsJob>;
  let answers: Promise<ClaimedPart[][]>;
  if (lister === undefined) {
    const listed = partsJob(
      workspace,
      rel,
      typeof parts === 'string' ? folderParts(workspace, rel) : parts,
      known,
    );
    job = Promise.resolve(listed);
    const n = Math.min(listed.parts.length, partWorkers());
    answers = Promise.all(Array.from({ length: n }, () => ask({ op: 'parts', ...listed }).promise));
  } else {
    let listedJob!: (job: PartsJob) => void;
    job = new Promise((resolve) => {
      listedJob = resolve;
    });
    const listing = ask({ op: 'list', workspace, rel, known }, lister);
    onListed.set(listing.id, (l) => listedJob({ workspace, rel, known, ...l }));
    // The other workers join once there are parts to claim.
    const others = job.then((listed) => {
      const n = Math.min(listed.parts.length, partWorkers()) - 1;
      return Promise.all(Array.from({ length: n }, () => ask({ op: 'parts', ...listed }).promise));
    });
    // The `listed` message comes before the answer, so `others` has started by then. A listing
    // that failed sends no parts and answers its error: `answers` rejects, `others` never starts.
    answers = listing.promise.then(async (mine) => [mine, ...(await others)]);
  }
  // A part this thread claims is statted within the macrotask that claims it: by the time the
  // last worker's answer is handled, every part claimed here is in `here`.
  const here: ClaimedPart[] = [];
  let failed: unknown;
  return {
    parts: job.then((j) => j.parts),
    promise: answers.then(async (answered) => {
      if (failed !== undefined) throw failed;
      const { parts: all } = await job;
      const found: PartStamps[] = [];
      for (const { index, part } of [...answered.flat(), ...here]) found[index] = part;
      for (let i = 0; i < all.length; i++)
        if (found[i] === undefined) throw new Error(`bug: part ${i} of ${rel} was not statted`);
      return found;
    }),
    hold: () => {
      isHeld = true;
      for (const h of holds) h();
    },
    help: async () => {
      const listed = await Promise.race([job, answers.then(() => undefined)]);
      while (listed !== undefined && failed === undefined) {
        let claimed: ClaimedPart[];
        try {
          claimed = claimParts(listed, true);
        } catch (error) {
          failed = error; // the part is lost: `promise` says why, once the workers are done
          return;
        }
        if (claimed.length === 0) return;
        here.push(...claimed);
        // Let the workers' answers and other I/O in between parts.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  };
}
