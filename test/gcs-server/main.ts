// The GCS server fixture as its own process:
//   node --import tsx main.ts [--latency-ms N] <storageDir> <bucket>...
// --latency-ms adds N ms each way to every request (2N per request), to play a remote service.
// Listens on a free 127.0.0.1 port and prints `listening <url>` once ready (index.ts waits for it).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGcsServer } from './server.js';
import { Store } from './store.js';

const args = process.argv.slice(2);
let latencyMs = 0;
if (args[0] === '--latency-ms') {
  latencyMs = Number(args[1]);
  args.splice(0, 2);
}
const [storageDir, ...buckets] = args;
if (storageDir === undefined || buckets.length === 0 || !(latencyMs >= 0)) {
  process.stderr.write('usage: main.ts [--latency-ms N] <storageDir> <bucket>...\n');
  process.exit(2);
}
const dataDir = join(storageDir, 'data');
const uploadsDir = join(storageDir, 'uploads');
mkdirSync(dataDir, { recursive: true });
mkdirSync(uploadsDir, { recursive: true });
const server = createGcsServer(
  new Store(dataDir, buckets),
  uploadsDir,
  join(storageDir, 'requests.jsonl'),
  { latencyMs },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`listening http://127.0.0.1:${address.port}\n`);
});
// Open keep-alive sockets would hold close() forever; the storage is thrown away anyway.
process.on('SIGTERM', () => {
  server.closeAllConnections();
  process.exit(0);
});
