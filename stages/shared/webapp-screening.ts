// Screens every web-app upload on all cores: the sorted list is cut into contiguous slices, one
// worker thread each (JSON.parse dominates the cost, and it is single-threaded per isolate). Each
// slice stages its valid documents in its own file; the verdicts come back here and are resolved in
// path order, so the result is the same however many slices there were. clean screens one part at
// a time through one ScreeningPool, so the threads start once per run, not once per part.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compiledWorkerEntry } from '../../lib/stage-api/index.js';
import {
  resolveUploads,
  uploadDigest,
  type CheckedUpload,
  type WebappScreening,
} from './webapp-files.js';
import type { UploadLimits } from './file-rejects.js';
import { screenSlice, type SliceJob } from './webapp-slice.js';

/** Below this many files per slice a worker's start-up (~0.5 s to load TypeScript) costs more than it saves. */
const MIN_FILES_PER_SLICE = 64;

export interface StagedScreening extends WebappScreening {
  /** NDJSON staging files, one pair per slice (see webapp-slice.ts). */
  readonly staged: { readonly files: string[]; readonly events: string[] };
}

export async function screenWebappUploads(
  rawRoot: string,
  files: readonly string[],
  schemaPath: string,
  limits: UploadLimits,
  stagingDir: string,
  slices = Math.max(
    1,
    Math.min(availableParallelism(), Math.floor(files.length / MIN_FILES_PER_SLICE)),
  ),
  pool?: ScreeningPool,
): Promise<StagedScreening> {
  const jobs: SliceJob[] = [];
  for (let s = 0; s < slices; s++) {
    const first = Math.floor((files.length * s) / slices);
    const end = Math.floor((files.length * (s + 1)) / slices);
    jobs.push({
      rawRoot,
      schemaPath,
      limits,
      files: files.slice(first, end),
      firstIndex: first,
      filesPath: join(stagingDir, `webapp-files-${s}.ndjson`),
      eventsPath: join(stagingDir, `webapp-events-${s}.ndjson`),
    });
  }
  let verdicts: CheckedUpload[][];
  if (slices === 1) verdicts = [screenSlice(jobs[0]!)];
  else {
    const threads = pool ?? new ScreeningPool(slices);
    try {
      verdicts = await Promise.all(jobs.map((job) => threads.run(job)));
    } finally {
      if (pool === undefined) await threads.close();
    }
  }
  const digestOf = (index: number) => uploadDigest(join(rawRoot, files[index]!), limits);
  const staged = { files: jobs.map((j) => j.filesPath), events: jobs.map((j) => j.eventsPath) };
  return { ...resolveUploads(files, verdicts.flat(), digestOf), staged };
}

interface Task {
  readonly job: SliceJob;
  readonly resolve: (verdicts: CheckedUpload[]) => void;
  readonly reject: (error: Error) => void;
}

/** Up to `size` screening threads, started when first needed and kept for later slices. */
export class ScreeningPool {
  readonly #size: number;
  readonly #queue: Task[] = [];
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();

  constructor(size = availableParallelism()) {
    this.#size = Math.max(1, size);
  }

  run(job: SliceJob): Promise<CheckedUpload[]> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    const workers = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #pump(): void {
    while (this.#queue.length > 0) {
      let worker = this.#idle.pop();
      if (worker === undefined) {
        if (this.#all.size >= this.#size) return;
        worker = startWorker();
        this.#all.add(worker);
      }
      this.#give(worker, this.#queue.shift()!);
    }
  }

  #give(worker: Worker, task: Task): void {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const lost = (error: Error) => {
      done();
      this.#all.delete(worker);
      task.reject(error);
      this.#pump();
    };
    const onMessage = (verdicts: CheckedUpload[]) => {
      done();
      this.#idle.push(worker);
      task.resolve(verdicts);
      this.#pump();
    };
    const onError = (error: Error) => lost(error);
    const onExit = (code: number) =>
      lost(new Error(`screening worker exited with code ${code} before answering`));
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(task.job);
  }
}

/**
 * A stage's main thread runs compiled or under tsx (docs/stage-contract.md, "How a TypeScript
 * stage runs"). Its worker runs the entry compiled with it; under tsx (whose loader does not reach
 * worker threads on Node 20) the .ts entry is loaded through tsx's API.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  const compiled = compiledWorkerEntry(new URL('./webapp-screen-worker.ts', here));
  if (compiled !== undefined) return new Worker(compiled);
  const entry = new URL('./webapp-screen-worker.ts', here).href;
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}))`;
  return new Worker(boot, { eval: true });
}
