// A file:// upload folder mirrored into the temp data/raw: the uploads pipe observed (PIPE_SOURCES;
// no second walk), create their parent folders once each, then link or copy and hash every upload
// (file-mirror-thread.ts): on this thread for a few uploads, on worker threads, one per core, for
// many. sha256 and the reads run on the thread that calls them, so at a quarter million uploads
// the work is CPU-bound and splits across cores.
import { mkdirSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compiledWorkerEntry, err, ok } from '../../lib/stage-api/index.js';
import { mirrorClaimedUploads, type MirrorJob, type ThreadReport } from './file-mirror-thread.js';
import type { MirrorResult, MirrorTarget } from './upload-source.js';
import { uploadFormat, type ManifestFile } from './uploads.js';

/**
 * Uploads per thread below which a worker's start-up (~0.25 s of CPU: tsx registers its loader in
 * each worker) costs more than it saves; a small web-app upload takes ~40 us to link and hash.
 */
const UPLOADS_PER_THREAD = 1000;

/**
 * Mirrors the uploads among `observed` (the folder's files as pipe saw them, PIPE_SOURCES) and
 * refuses any whose bytes differ from what was observed: the build would otherwise record data
 * that is not what made it run.
 */
export async function mirrorFolder(
  root: string,
  target: MirrorTarget,
  observed: readonly { path: string; size: number; sha256: string }[] | undefined,
): Promise<MirrorResult> {
  const uploads = observed?.filter((f) => uploadFormat(f.path) !== undefined);
  let listed: Listing = { paths: uploads?.map((f) => f.path) ?? [], folders: new Set() };
  for (const path of listed.paths) {
    const slash = path.lastIndexOf('/');
    listed.folders.add(slash === -1 ? '' : path.slice(0, slash));
  }
  // Run by hand (no PIPE_SOURCES): walk the folder as pipe would have.
  if (uploads === undefined) {
    try {
      listed = listUploads(root);
    } catch (error) {
      return err({ step: 'list', message: (error as Error).message });
    }
  }
  const paths = listed.paths.sort();
  for (const folder of [...listed.folders].sort())
    mkdirSync(join(target.out, folder), { recursive: true });
  const job: MirrorJob = {
    root,
    out: target.out,
    previousRoot: target.previousRoot,
    paths,
    previousSha256: paths.map((path) => target.previous.get(path)?.sha256 ?? ''),
    control: new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT),
    sizes: new SharedArrayBuffer(paths.length * Float64Array.BYTES_PER_ELEMENT),
    digests: new SharedArrayBuffer(paths.length * 32),
  };
  const threads = Math.min(availableParallelism(), Math.floor(paths.length / UPLOADS_PER_THREAD));
  const reports =
    threads < 2
      ? [mirrorClaimedUploads(job)]
      : await Promise.all(Array.from({ length: threads }, () => runThread(job)));
  const failed = reports.find((report) => report !== undefined);
  if (failed !== undefined)
    return err({ step: 'fetch', path: failed.failedPath, message: failed.message });
  const sizes = new Float64Array(job.sizes);
  const digests = Buffer.from(job.digests);
  const files: ManifestFile[] = paths.map((path, i) => ({
    path,
    size: sizes[i]!,
    sha256: digests.toString('hex', i * 32, i * 32 + 32),
  }));
  const seen = new Map(uploads?.map((f) => [f.path, f.sha256]));
  const changed =
    uploads === undefined ? undefined : files.find((f) => seen.get(f.path) !== f.sha256);
  if (changed !== undefined)
    return err({
      step: 'fetch',
      path: changed.path,
      message: 'it changed since pipe looked at it (another sha256); run pipe build again',
    });
  return ok(files);
}

interface Listing {
  readonly paths: string[];
  /** Folders (relative, '' for the root) that hold at least one upload. */
  readonly folders: Set<string>;
}

/** Every upload under `root` (uploadFormat decides), as POSIX paths relative to it. */
function listUploads(root: string): Listing {
  const listing: Listing = { paths: [], folders: new Set() };
  const pending = [''];
  for (let prefix = pending.pop(); prefix !== undefined; prefix = pending.pop()) {
    for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) pending.push(rel);
      else if (entry.isFile() && uploadFormat(rel) !== undefined) {
        listing.paths.push(rel);
        listing.folders.add(prefix);
      }
    }
  }
  return listing;
}

/**
 * One worker thread running mirrorClaimedUploads over `job`: from the module compiled with the
 * stage when it runs compiled; else under tsx, whose loader does not reach worker threads on
 * Node 20 (tsx issue #354), so a two-line bootstrap registers tsx in the worker first.
 */
function runThread(job: MirrorJob): Promise<ThreadReport> {
  const source = new URL('./file-mirror-thread.ts', import.meta.url);
  const compiled = compiledWorkerEntry(source);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    compiled !== undefined
      ? `import(${JSON.stringify(compiled.href)}).then((m) => m.workerMain());`
      : `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source.href)}); }).then((m) => m.workerMain());`;
  return new Promise((resolve, reject) => {
    let report: { value: ThreadReport } | undefined;
    const worker = new Worker(bootstrap, { eval: true, workerData: job });
    worker.on('message', (message: ThreadReport) => (report = { value: message }));
    worker.on('error', reject);
    worker.on('exit', (code) =>
      report !== undefined
        ? resolve(report.value)
        : reject(new Error(`a download thread exited (code ${code}) without reporting`)),
    );
  });
}
