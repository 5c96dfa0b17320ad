// Worker side of hash-threads.ts: hashes whole files, one request at a time, reading in 1 MiB
// chunks with synchronous reads (this thread has nothing else to do).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const buffer = Buffer.allocUnsafe(1 << 20);
parentPort!.on('message', (request: { id: number; path: string }) => {
  try {
    const hash = createHash('sha256');
    const fd = openSync(request.path, 'r');
    try {
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    parentPort!.postMessage({ id: request.id, sha256: hash.digest('hex') });
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: (error as Error).message });
  }
});
