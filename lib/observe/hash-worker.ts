// Worker side of hash-threads.ts. Each request is one of:
//   hash: sha256 of a batch of files, one after another, read in 1 MiB chunks with synchronous
//         reads (this thread has nothing else to do, and for small files a sync open/read/close
//         costs a fraction of a promise-based readFile's thread-pool round trips);
//   parts: parts of a big folder (folder-parts.ts), claimed one at a time from a counter the
//         threads given the folder share, each walked and statted here (part-stamps.ts),
//         answering its stamps digest, file count, size and newest mtime, and, only when its
//         digest is not one of those `known` (the folder entry's), its paths and stamps as well:
//         on a no-op build no path or stamp crosses threads;
//   list: a big folder listed and cut into parts here (folder-parts.ts), sent back at once in a
//         `listed` message (its parts and the claim counter, so other threads join in), then
//         statted as `parts` does. Listing 241,605 names is ~0.5 s of one thread: done here, it
//         runs beside the main thread listing another folder or loading the pipeline.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { folderParts } from './folder-parts.js';
import { claimParts, partsJob, type ClaimedPart, type PartsJob } from './part-stamps.js';

export type Request =
  | { readonly id: number; readonly op: 'hash'; readonly paths: readonly string[] }
  | ({ readonly id: number; readonly op: 'parts' } & PartsJob)
  | {
      readonly id: number;
      readonly op: 'list';
      readonly workspace: string;
      readonly rel: string;
      readonly known: readonly string[];
    };

/** What a `list` request sends before its answer: the job every other thread can claim from. */
export type Listed = Pick<PartsJob, 'parts' | 'order' | 'next'>;

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

parentPort!.on('message', (request: Request) => {
  try {
    if (request.op === 'hash')
      parentPort!.postMessage({ id: request.id, result: request.paths.map(hashOne) });
    else if (request.op === 'parts') answerClaimed(request.id, claimParts(request));
    else {
      const { workspace, rel, known } = request;
      const job = partsJob(workspace, rel, folderParts(workspace, rel), known);
      const listed: Listed = { parts: job.parts, order: job.order, next: job.next };
      parentPort!.postMessage({ id: request.id, listed });
      answerClaimed(request.id, claimParts(job));
    }
  } catch (error) {
    parentPort!.postMessage({
      id: request.id,
      error: (error as Error).message,
      code: (error as NodeJS.ErrnoException).code,
    });
  }
});

/** The parts claimed here; their stamps' buffers move to the main thread, not copied. */
function answerClaimed(id: number, result: ClaimedPart[]): void {
  parentPort!.postMessage(
    { id, result },
    result.flatMap(({ part }) =>
      part.changed === undefined ? [] : [part.changed.stamps.buffer as ArrayBuffer],
    ),
  );
}
