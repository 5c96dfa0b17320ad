// Observing a bucket prefix by its listing (lib/observe/gcs-listing.ts) against the peer, a plain
// sequential paged listing with @google-cloud/storage (getFiles, autoPaginate):
//   node --import tsx bench/gcs-listing.ts     (BENCH_OBJECTS=241605, BENCH_LATENCY_MS=10,
//                                               BENCH_ROUNDS=3, BENCH_CONCURRENCY=4,8,16,32,64)
// The test/gcs-server fixture holds BENCH_OBJECTS metadata-only objects named like web-app uploads
// (uploads/user-NNNNN/<hex session id>.session.json, 15 sessions a user) and answers every request
// BENCH_LATENCY_MS later each way, to play a remote service. Each concurrency and the peer run
// BENCH_ROUNDS times, interleaved so load from other processes hits all of them; medians are
// reported, with the requests each made (from the fixture's request log). Both listings are
// checked to hold the same objects, name by name, and the count to be BENCH_OBJECTS.
// Writes bench/results/gcs-listing.md.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { DEFAULT_CONCURRENCY, listGcsPrefix } from '../lib/observe/gcs-listing.js';
import { startGcsServer } from '../test/gcs-server/index.js';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 241_605);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '4,8,16,32,64').split(',').map(Number);
const SESSIONS_PER_USER = 15;
const BUCKET = 'bench-uploads';
const URL_ = `gs://${BUCKET}/uploads`;
const REPO = new URL('..', import.meta.url).pathname;

/** Deterministic session ids shaped like the web app's (8-4-4-12 hex). */
function uploadNames(count: number): string[] {
  let x = 12345;
  const hex = (digits: number) => {
    let out = '';
    for (let i = 0; i < digits; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out += (x >>> 28).toString(16);
    }
    return out;
  };
  return Array.from({ length: count }, (_, k) => {
    const user = `user-${String(Math.floor(k / SESSIONS_PER_USER) + 1).padStart(5, '0')}`;
    return `uploads/${user}/${hex(8)}-${hex(4)}-${hex(4)}-${hex(12)}.session.json`;
  });
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => (ms / 1000).toFixed(2);

const server = await startGcsServer([BUCKET]);
try {
  const names = uploadNames(OBJECTS);
  const setup = performance.now();
  await server.bulkCreate(BUCKET, names);
  const setupMs = performance.now() - setup;
  await server.setLatency(LATENCY_MS);
  const expected = names.map((n) => n.slice('uploads/'.length)).sort();
  const bucket = new Storage({ apiEndpoint: server.url }).bucket(BUCKET);

  const requestsOf = async (run: () => Promise<void>) => {
    const before = (await server.requests()).length;
    const start = performance.now();
    await run();
    const ms = performance.now() - start;
    return { ms, requests: (await server.requests()).length - before };
  };
  const ours = new Map<number, Array<{ ms: number; requests: number }>>();
  const peer: Array<{ ms: number; requests: number }> = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const concurrency of CONCURRENCIES) {
      const sample = await requestsOf(async () => {
        const listed = await listGcsPrefix(URL_, { endpoint: server.url, concurrency });
        if (!listed.ok) throw new Error(listed.error);
        const paths = listed.value.map((o) => o.path);
        if (paths.length !== OBJECTS || paths.some((p, i) => p !== expected[i]))
          throw new Error(`concurrency ${concurrency}: the listing differs from the names created`);
      });
      ours.set(concurrency, [...(ours.get(concurrency) ?? []), sample]);
      process.stderr.write(
        `round ${round + 1} concurrency ${concurrency}: ${seconds(sample.ms)} s, ${sample.requests} requests\n`,
      );
    }
    const sample = await requestsOf(async () => {
      const [files] = await bucket.getFiles({ prefix: 'uploads/', autoPaginate: true });
      const paths = files.map((f) => f.name.slice('uploads/'.length)).sort();
      if (paths.length !== OBJECTS || paths.some((p, i) => p !== expected[i]))
        throw new Error('getFiles: the listing differs from the names created');
    });
    peer.push(sample);
    process.stderr.write(`round ${round + 1} getFiles: ${seconds(sample.ms)} s\n`);
  }

  const peerMs = median(peer.map((s) => s.ms));
  const rows = CONCURRENCIES.map((c) => {
    const samples = ours.get(c)!;
    const ms = median(samples.map((s) => s.ms));
    const mark = c === DEFAULT_CONCURRENCY ? ' (default)' : '';
    return `| listGcsPrefix, concurrency ${c}${mark} | ${seconds(ms)} s (${samples.map((s) => seconds(s.ms)).join(', ')}) | ${samples.map((s) => s.requests).join(', ')} | ${(peerMs / ms).toFixed(1)}x |`;
  });
  const pages = Math.ceil(OBJECTS / 1000);
  const text = `# Observing a bucket prefix: listGcsPrefix vs a sequential getFiles

Made by \`node --import tsx bench/gcs-listing.ts\` on ${new Date().toISOString()} (${cpus().length} cores, Node ${process.version}),
BENCH_OBJECTS=${OBJECTS}, BENCH_LATENCY_MS=${LATENCY_MS} (each way: ${2 * LATENCY_MS} ms a request), BENCH_ROUNDS=${ROUNDS}.
The test/gcs-server fixture (one Node process on the same cores) holds ${OBJECTS} objects named
\`uploads/user-NNNNN/<8-4-4-12 hex>.session.json\` (${SESSIONS_PER_USER} a user; bulk-created in ${seconds(setupMs)} s).
Pages of 1000: ${pages} pages at least. Every listing was checked name by name against the names created.

| listing | median of ${ROUNDS} (each run) | requests (each run) | faster than getFiles |
|---|---|---|---|
${rows.join('\n')}
| peer: getFiles({ autoPaginate: true }), sequential pages, full resources | ${seconds(peerMs)} s (${peer.map((s) => seconds(s.ms)).join(', ')}) | ${peer.map((s) => s.requests).join(', ')} | 1.0x |
`;
  writeFileSync(join(REPO, 'bench', 'results', 'gcs-listing.md'), text);
  process.stdout.write(text);
} finally {
  await server.stop();
}
