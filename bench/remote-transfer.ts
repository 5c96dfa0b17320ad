// Measures: the storage layer alone (lib/remote, no CLI), the rates push and pull build on. For
// file:// and for gs:// (the real @google-cloud/storage client against test/gcs-server/ on
// loopback), in one run so ratios share the machine's noise: N small files put one by one vs 16 at
// a time (the peer: one at a time), hasObjects over all N (requests counted), N gets 16 at a time,
// and one big file put and get.
// Run:  npm run bench:remote              (BENCH_FILES=2000, BENCH_BIG_MB=256 by default; the
//   committed table used BENCH_FILES=10000 BENCH_BIG_MB=1024)
//   or: npx tsx bench/remote-transfer.ts
// Writes remote-transfer.md under BENCH_RESULTS; scratch stores under BENCH_WORK (bench/paths.ts).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { openRemote } from '../lib/remote/open.js';
import type { Remote, RemoteResult } from '../lib/remote/remote.js';
import { startGcsServer } from '../test/gcs-server/index.js';
import { resultPath, scratchDir } from './paths.js';

const FILES = Number(process.env.BENCH_FILES ?? 2000);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 256);
const PARALLEL = 16;

interface Source {
  path: string;
  sha: Sha256Hex;
  size: number;
}

/** Runs `task` over `items` with at most `limit` in flight; order of completion is not kept. */
async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function must<T>(r: RemoteResult<T>): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

async function timed(body: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await body();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function makeSources(dir: string): Promise<{ small: Source[]; big: Source }> {
  const small: Source[] = [];
  for (let i = 0; i < FILES; i++) {
    const bytes = randomBytes(1024 + (i % 4) * 1024);
    const path = join(dir, `f${i}`);
    await writeFile(path, bytes);
    small.push({
      path,
      sha: createHash('sha256').update(bytes).digest('hex') as Sha256Hex,
      size: bytes.length,
    });
  }
  const bigBytes = randomBytes(BIG_MB * 1024 * 1024);
  const bigPath = join(dir, 'big');
  await writeFile(bigPath, bigBytes);
  return {
    small,
    big: {
      path: bigPath,
      sha: createHash('sha256').update(bigBytes).digest('hex') as Sha256Hex,
      size: bigBytes.length,
    },
  };
}

async function measure(
  label: string,
  open: (name: string) => Promise<Remote>,
  scratch: string,
  src: { small: Source[]; big: Source },
  countRequests?: () => Promise<number>,
) {
  const rows: string[] = [];
  const fps = (n: number, s: number) => `${(n / s).toFixed(0)} files/s (${s.toFixed(2)} s)`;
  const mbps = (bytes: number, s: number) =>
    `${(bytes / 1e6 / s).toFixed(0)} MB/s (${s.toFixed(2)} s)`;
  const sequential = await open('sequential');
  const seq = await timed(async () => {
    for (const f of src.small) must(await sequential.putObject(f.sha, f.path, f.size));
  });
  const parallel = await open('parallel');
  const par = await timed(() =>
    mapLimit(
      src.small,
      PARALLEL,
      async (f) => void must(await parallel.putObject(f.sha, f.path, f.size)),
    ),
  );
  rows.push(`| ${label} | put ${FILES} small files, 1 at a time | ${fps(FILES, seq)} |`);
  rows.push(
    `| ${label} | put ${FILES} small files, ${PARALLEL} at a time | ${fps(FILES, par)} (${(seq / par).toFixed(1)}x) |`,
  );
  const before = (await countRequests?.()) ?? 0;
  let found = 0;
  const has = await timed(async () => {
    found = must(await parallel.hasObjects(src.small.map((f) => f.sha))).size;
  });
  const requests =
    countRequests === undefined
      ? 'n/a (no requests: a folder)'
      : `${(await countRequests()) - before} requests`;
  if (found !== FILES) throw new Error(`hasObjects found ${found} of ${FILES}`);
  rows.push(`| ${label} | hasObjects over ${FILES} objects | ${has.toFixed(2)} s, ${requests} |`);
  const getDir = join(scratch, `get-${label.replace(/\W+/g, '-')}`);
  const get = await timed(() =>
    mapLimit(
      src.small,
      PARALLEL,
      async (f) => void must(await parallel.getObject(f.sha, join(getDir, f.sha))),
    ),
  );
  rows.push(
    `| ${label} | get ${FILES} small files, ${PARALLEL} at a time (sha256 verified) | ${fps(FILES, get)} |`,
  );
  const putBig = await timed(
    async () => void must(await parallel.putObject(src.big.sha, src.big.path, src.big.size)),
  );
  rows.push(`| ${label} | put one ${BIG_MB} MiB file | ${mbps(src.big.size, putBig)} |`);
  const getBig = await timed(
    async () => void must(await parallel.getObject(src.big.sha, join(getDir, 'big'))),
  );
  rows.push(
    `| ${label} | get one ${BIG_MB} MiB file (sha256 verified) | ${mbps(src.big.size, getBig)} |`,
  );
  await rm(getDir, { recursive: true, force: true });
  return rows;
}

const scratch = scratchDir('remote-');
const server = await startGcsServer(['bench']);
try {
  await mkdir(join(scratch, 'src'));
  const src = await makeSources(join(scratch, 'src'));
  const open = async (url: string) => {
    const r = await openRemote(url, { workspace: scratch, gcsEndpoint: server.url });
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  const local = await measure(
    'file://',
    async (name) => {
      await mkdir(join(scratch, 'store', name), { recursive: true });
      return open(`file://${join(scratch, 'store', name)}`);
    },
    scratch,
    src,
  );
  const gcs = await measure(
    'gs:// (fixture)',
    (name) => open(`gs://bench/${name}`),
    scratch,
    src,
    async () => (await server.requests()).length,
  );
  const table = [
    `# Remote storage layer: transfer rates`,
    ``,
    `Made by \`node --import tsx bench/remote-transfer.ts\` on ${new Date().toISOString()} (${cpus().length} cores, Node ${process.version}),`,
    `BENCH_FILES=${FILES}, BENCH_BIG_MB=${BIG_MB}. gs:// is the real @google-cloud/storage client against the`,
    `test/gcs-server fixture on loopback; file:// is a store in a temp folder on the same disk.`,
    ``,
    `| remote | operation | result |`,
    `|---|---|---|`,
    ...local,
    ...gcs,
    ``,
  ].join('\n');
  await writeFile(resultPath('remote-transfer.md'), table);
  process.stdout.write(table);
} finally {
  await server.stop();
  await rm(scratch, { recursive: true, force: true });
}
