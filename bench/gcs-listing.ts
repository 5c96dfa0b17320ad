// Observing a bucket prefix by its listing (lib/observe/gcs-listing.ts) against the peer, a plain
// sequential paged listing with @google-cloud/storage (getFiles, autoPaginate):
//   node --import tsx bench/gcs-listing.ts     (BENCH_OBJECTS=241605, BENCH_LATENCY_MS=10,
//                                               BENCH_ROUNDS=3, BENCH_CONCURRENCY=4,8,16,32,64)
// The test/gcs-server fixture holds BENCH_OBJECTS metadata-only objects named like web-app uploads
// (uploads/user-NNNNN/<hex session id>.session.json, 15 sessions a user) and answers every request
// BENCH_LATENCY_MS later each way, to play a remote service. Each concurrency and the peer run
// BENCH_ROUNDS times, interleaved so load from other processes hits all of them; medians are
// reported, with the requests each made (from the fixture's request log) and the CPU time of the
// listing (this process) and of the fixture server (from /proc): on a shared 2-core machine the
// wall time follows the load, so the load average is recorded too. Every listing is checked,
// after its timing, to hold exactly the names created, in order.
// Writes BENCH_RESULTS (default bench/results/)/gcs-listing.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Storage } from '@google-cloud/storage';
import { DEFAULT_CONCURRENCY, listGcsPrefix } from '../lib/observe/gcs-listing.js';
import { startGcsServer } from '../test/gcs-server/index.js';
import { resultPath } from './paths.js';
import { SESSIONS_PER_USER, uploadNames } from './upload-names.js';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 241_605);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCIES = (process.env.BENCH_CONCURRENCY ?? '4,8,16,32,64').split(',').map(Number);
const BUCKET = 'bench-uploads';
const URL_ = `gs://${BUCKET}/uploads`;

/** user + system CPU milliseconds a process has used, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface Sample {
  readonly ms: number;
  readonly requests: number;
  readonly clientCpuMs: number;
  readonly serverCpuMs: number;
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

  /** Times `run` alone; `check` then looks at what it returned, untimed. */
  const measure = async <T>(run: () => Promise<T>, check: (value: T) => void): Promise<Sample> => {
    const before = (await server.requests()).length;
    const server0 = cpuMsOf(server.pid);
    const client0 = process.cpuUsage();
    const start = performance.now();
    const value = await run();
    const ms = performance.now() - start;
    const client = process.cpuUsage(client0);
    const serverCpuMs = cpuMsOf(server.pid) - server0;
    check(value);
    return {
      ms,
      requests: (await server.requests()).length - before,
      clientCpuMs: (client.user + client.system) / 1000,
      serverCpuMs,
    };
  };
  const sameAsCreated = (paths: readonly string[], who: string) => {
    if (paths.length !== OBJECTS || paths.some((p, i) => p !== expected[i]))
      throw new Error(`${who}: the listing differs from the names created`);
  };
  const loadBefore = loadavg()[0]!;
  const ours = new Map<number, Sample[]>();
  const peer: Sample[] = [];
  const gzipped: Sample[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const concurrency of CONCURRENCIES) {
      const sample = await measure(
        () => listGcsPrefix(URL_, { endpoint: server.url, concurrency }),
        (listed) => {
          if (!listed.ok) throw new Error(listed.error);
          sameAsCreated(
            listed.value.map((o) => o.path),
            `concurrency ${concurrency}`,
          );
        },
      );
      ours.set(concurrency, [...(ours.get(concurrency) ?? []), sample]);
      process.stderr.write(
        `round ${round + 1} concurrency ${concurrency}: ${seconds(sample.ms)} s, ${sample.requests} requests\n`,
      );
    }
    // As GCS answers a client that asks for gzip: the server's CPU goes up on loopback, the bytes
    // on the wire down (what a real network rewards).
    await server.setGzip(true);
    gzipped.push(
      await measure(
        () => listGcsPrefix(URL_, { endpoint: server.url }),
        (listed) => {
          if (!listed.ok) throw new Error(listed.error);
          sameAsCreated(
            listed.value.map((o) => o.path),
            'gzip',
          );
        },
      ),
    );
    await server.setGzip(false);
    const sample = await measure(
      async () => (await bucket.getFiles({ prefix: 'uploads/', autoPaginate: true }))[0],
      (files) =>
        sameAsCreated(files.map((f) => f.name.slice('uploads/'.length)).sort(), 'getFiles'),
    );
    peer.push(sample);
    process.stderr.write(`round ${round + 1} getFiles: ${seconds(sample.ms)} s\n`);
  }

  const loadAfter = loadavg()[0]!;
  const peerMs = median(peer.map((s) => s.ms));
  const row = (what: string, samples: readonly Sample[]) => {
    const ms = median(samples.map((s) => s.ms));
    const cpu = (key: 'clientCpuMs' | 'serverCpuMs') => seconds(median(samples.map((s) => s[key])));
    return `| ${what} | ${seconds(ms)} s (${samples.map((s) => seconds(s.ms)).join(', ')}) | ${samples.map((s) => s.requests).join(', ')} | ${cpu('clientCpuMs')} s | ${cpu('serverCpuMs')} s | ${(peerMs / ms).toFixed(1)}x |`;
  };
  const rows = CONCURRENCIES.map((c) =>
    row(
      `listGcsPrefix, concurrency ${c}${c === DEFAULT_CONCURRENCY ? ' (default)' : ''}`,
      ours.get(c)!,
    ),
  );
  const pages = Math.ceil(OBJECTS / 1000);
  const text = `# Observing a bucket prefix: listGcsPrefix vs a sequential getFiles

Made by \`node --import tsx bench/gcs-listing.ts\` on ${new Date().toISOString()} (${cpus().length} cores, Node ${process.version}),
BENCH_OBJECTS=${OBJECTS}, BENCH_LATENCY_MS=${LATENCY_MS} (each way: ${2 * LATENCY_MS} ms a request), BENCH_ROUNDS=${ROUNDS}.
The test/gcs-server fixture (one Node process on the same cores) holds ${OBJECTS} objects named
\`uploads/user-NNNNN/<8-4-4-12 hex>.session.json\` (${SESSIONS_PER_USER} a user; bulk-created in ${seconds(setupMs)} s).
Pages of 1000: ${pages} pages at least. Every listing was checked name by name against the names created.
The machine is shared: load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end, on ${cpus().length} cores.
CPU columns are medians: the listing process, and the fixture server (which stands in for GCS).

| listing | wall, median of ${ROUNDS} (each run) | requests (each run) | CPU, lister | CPU, server | faster than getFiles |
|---|---|---|---|---|---|
${rows.join('\n')}
${row(`listGcsPrefix, concurrency ${DEFAULT_CONCURRENCY}, answers gzipped (as GCS sends them when asked)`, gzipped)}
${row('peer: getFiles({ autoPaginate: true }), sequential pages, full resources', peer)}
`;
  writeFileSync(resultPath('gcs-listing.md'), text);
  process.stdout.write(text);
} finally {
  await server.stop();
}
