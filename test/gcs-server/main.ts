// The GCS server fixture as its own process: `node --import tsx main.ts <storageDir> <bucket>...`.
// Listens on a free 127.0.0.1 port and prints `listening <url>` once ready (index.ts waits for it).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createGcsServer } from './server.js';
import { Store } from './store.js';

const [storageDir, ...buckets] = process.argv.slice(2);
if (storageDir === undefined || buckets.length === 0) {
  process.stderr.write('usage: main.ts <storageDir> <bucket>...\n');
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
