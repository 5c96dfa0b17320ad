// Screens every web-app upload on all cores: the sorted list is cut into contiguous slices, one
// worker thread each (JSON.parse dominates the cost, and it is single-threaded per isolate). Each
// slice stages its valid documents in its own file; the verdicts come back here and are resolved in
// path order, so the result is the same however many slices there were.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  resolveUploads,
  uploadDigest,
  type CheckedUpload,
  type WebappScreening,
} from './webapp-files.js';
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
  stagingDir: string,
  slices = Math.max(
    1,
    Math.min(availableParallelism(), Math.floor(files.length / MIN_FILES_PER_SLICE)),
  ),
): Promise<StagedScreening> {
  const jobs: SliceJob[] = [];
  for (let s = 0; s < slices; s++) {
    const first = Math.floor((files.length * s) / slices);
    const end = Math.floor((files.length * (s + 1)) / slices);
    jobs.push({
      rawRoot,
      schemaPath,
      files: files.slice(first, end),
      firstIndex: first,
      filesPath: join(stagingDir, `webapp-files-${s}.ndjson`),
      eventsPath: join(stagingDir, `webapp-events-${s}.ndjson`),
    });
  }
  const verdicts =
    slices === 1 ? [screenSlice(jobs[0]!)] : await Promise.all(jobs.map(runInWorker));
  const digestOf = (index: number) => uploadDigest(join(rawRoot, files[index]!));
  const staged = { files: jobs.map((j) => j.filesPath), events: jobs.map((j) => j.eventsPath) };
  return { ...resolveUploads(files, verdicts.flat(), digestOf), staged };
}

function runInWorker(job: SliceJob): Promise<CheckedUpload[]> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(job);
    let verdicts: CheckedUpload[] | undefined;
    worker.once('message', (message: CheckedUpload[]) => (verdicts = message));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      verdicts !== undefined
        ? resolve(verdicts)
        : reject(new Error(`screening worker exited with code ${code} before answering`)),
    );
  });
}

/**
 * Stage scripts run as TypeScript through tsx (`node --import tsx`; stages/ is never compiled),
 * and on Node 20 a worker thread does not inherit that loader: its entry is loaded through tsx's API.
 */
function startWorker(workerData: SliceJob): Worker {
  const here = import.meta.url;
  const entry = new URL('./webapp-screen-worker.ts', here).href;
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)}))`;
  return new Worker(boot, { eval: true, workerData });
}
