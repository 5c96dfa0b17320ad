// Big files are hashed in worker threads, one per core, so hashing 1 GB of deps uses both cores
// (node:crypto's sha256 runs on the thread that calls it; one thread tops out near 1.1 GB/s).
// Small files stay on the main thread: for them the cost is the open/read syscalls, which
// libuv's thread pool already spreads over the cores, and a message round trip would cost more.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Sha256Hex } from './hash.js';

type Reply = { id: number; sha256?: string; error?: string };
/** Requests in flight per worker: a worker holds the process open only while it has some. */
const inFlight = new Map<Worker, number>();

let workers: Worker[] | undefined;
let next = 0;
let nextId = 0;
const pending = new Map<number, { resolve: (sha: Sha256Hex) => void; reject: (e: Error) => void }>();

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
        if (reply.sha256 !== undefined) waiter?.resolve(reply.sha256 as Sha256Hex);
        else waiter?.reject(new Error(reply.error ?? 'hash worker failed'));
      });
      w.unref(); // idle workers never keep pipe alive
      return w;
    });
  }
  return workers;
}

/** sha256 of a file, computed on a worker thread (round-robin over one worker per core). */
export function hashFileOnWorker(absPath: string): Promise<Sha256Hex> {
  const all = pool();
  const worker = all[next++ % all.length]!;
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    inFlight.set(worker, (inFlight.get(worker) ?? 0) + 1);
    worker.ref();
    worker.postMessage({ id, path: absPath });
  });
}
