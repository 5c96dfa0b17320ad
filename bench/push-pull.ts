// pipe push / pull end to end, the real CLI against the GCS JSON API server fixture on loopback.
// Run:  npm run bench:push-pull           (BENCH_FILES=10000, BENCH_BIG_MB=1024 by default)
//   or: npx tsc -p tsconfig.json && npx tsx bench/push-pull.ts
//   smoke: BENCH_FILES=200 BENCH_BIG_MB=16 BENCH_ROUNDS=1 BENCH_LATENCY_FILES=50 npm run bench:push-pull
// Measures, in one run so ratios share the machine's noise:
//   - push and pull of a version of BENCH_FILES small files (1-4 KiB), and of one BENCH_BIG_MB file
//   - an unchanged re-push of the small-file version: bytes sent (from the fixture's request log:
//     any POST/PUT would be an upload) and wall time; target 0 bytes and < 2 s
//   - the peer: a plain sequential upload of the same small files with the same client
//     (@google-cloud/storage, bucket.upload one at a time, in-process: no CLI start-up to pay);
//     target: push >= 4x faster. Push and peer alternate over BENCH_ROUNDS rounds (default 3),
//     each to a fresh prefix, so a burst of load from other processes hits both; the CPU seconds
//     the fixture server spent are read from /proc to show what limits the ratio.
//   - the same comparison for BENCH_LATENCY_FILES files through a proxy that delays every chunk
//     by BENCH_LATENCY_MS in each direction: loopback has no latency to hide, a real bucket does
// Times are wall clock of the whole `pipe` process (Node start-up, hashing through the state
// cache, listing, transfers). Writes push-pull.md under BENCH_RESULTS; scratch under BENCH_WORK.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { startGcsServer, type GcsServer } from '../test/gcs-server/index.js';
import { repo, resultPath, scratchDir } from './paths.js';

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_FILES = Number(process.env.BENCH_LATENCY_FILES ?? 2000);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 10);
const BUCKET = 'bench';
const PIPE = join(repo, 'bin', 'pipe.js');

const SMALL_STAGE = `import { fs, path } from 'zx';
import { randomBytes } from 'node:crypto';
const dir = JSON.parse(process.env.PIPE_OUTS)['out/many'];
fs.mkdirSync(dir, { recursive: true });
for (let i = 0; i < ${FILES}; i++) fs.writeFileSync(path.join(dir, 'f' + i + '.bin'), randomBytes(1024 * (1 + (i % 4))));
`;
const BIG_STAGE = `import { fs } from 'zx';
import { randomBytes } from 'node:crypto';
const fd = fs.openSync(JSON.parse(process.env.PIPE_OUTS)['out/big.bin'], 'w');
for (let i = 0; i < ${BIG_MB / 16}; i++) fs.writeSync(fd, randomBytes(16 << 20));
fs.closeSync(fd);
`;

function workspace(root: string, name: string, out: string, script: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'stages'), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(
    join(dir, 'pipeline.yaml'),
    `stages:\n  make:\n    cmd: stages/make.mjs\n    outs: [${out}]\n`,
  );
  writeFileSync(join(dir, 'stages', 'make.mjs'), script);
  return dir;
}

interface Run {
  seconds: number;
  stdout: string;
  /** User + system CPU seconds of the pipe process (bash's `times` for its children). */
  cpu: number;
}

function pipe(cwd: string, env: Record<string, string>, ...args: string[]): Run {
  const start = process.hrtime.bigint();
  const quoted = args.map((a) => `'${a}'`).join(' ');
  const r = spawnSync(
    'bash',
    [
      '-c',
      `"$0" '${PIPE}' ${quoted} > "$1"; code=$?; times >&2; exit $code`,
      process.execPath,
      join(cwd, '.bench-stdout'),
    ],
    {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0)
    throw new Error(`pipe ${args.join(' ')} in ${cwd} exited ${r.status}:\n${r.stderr}`);
  // `times` prints the shell's own user/sys, then its children's: "0m1.234s 0m0.056s".
  const children = r.stderr
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map((t) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m === null ? 0 : Number(m[1]) * 60 + Number(m[2]);
    });
  return {
    seconds,
    stdout: readFileSync(join(cwd, '.bench-stdout'), 'utf8'),
    cpu: children[0]! + children[1]!,
  };
}

/** Wall time of a pipe run that must not block this process (the latency proxy runs here). */
async function pipeAsync(
  cwd: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<{ seconds: number }> {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [PIPE, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: 'true', ...env },
    stdio: 'ignore',
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`pipe ${args.join(' ')} in ${cwd} exited ${code}`);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

async function requestsSince(server: GcsServer, before: number) {
  return (await server.requests()).slice(before);
}

/** CPU seconds (user + system) the fixture server process has used so far, from /proc. */
function serverCpu(server: GcsServer): number {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.includes(server.storageDir)) continue;
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }
  throw new Error('gcs-server process not found');
}

/**
 * A TCP proxy in front of the fixture that holds every chunk LATENCY_MS before forwarding it,
 * both ways, so each request/response pays a round trip like one to a real bucket. Timers with
 * equal delays fire in creation order, so bytes stay in order.
 */
async function latencyProxy(
  target: string,
  delayMs: number,
): Promise<{ url: string; close(): void }> {
  const { port } = new URL(target);
  const server = createServer((client) => {
    const upstream = connect(Number(port), '127.0.0.1');
    const delayed = (from: Socket, to: Socket) => {
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
      from.on('end', () => setTimeout(() => to.end(), delayMs));
      from.on('error', () => to.destroy());
    };
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const server = await startGcsServer([BUCKET]);
  const root = scratchDir('push-pull-');
  const rows: string[] = [];
  const mb = (bytes: number) => bytes / 1e6;
  try {
    // --- 10,000 small files ---
    const small = workspace(root, 'small', 'out/many', SMALL_STAGE);
    pipe(small, {}, 'build');
    const files = readdirSync(join(small, 'out', 'many')).length;
    const bytes = Array.from({ length: files }, (_, i) => 1024 * (1 + (i % 4))).reduce(
      (a, b) => a + b,
      0,
    );
    // Push and the sequential peer, alternating; every round publishes to a fresh prefix.
    const bucket = new Storage({ apiEndpoint: server.url }).bucket(BUCKET);
    const names = readdirSync(join(small, 'out', 'many'));
    const pushTimes: number[] = [];
    const seqTimes: number[] = [];
    let env = { PIPE_REMOTE: '', PIPE_GCS_ENDPOINT: server.url };
    let pushCpu = { client: 0, server: 0 };
    let seqCpu = { client: 0, server: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      env = { PIPE_REMOTE: `gs://${BUCKET}/small-${round}`, PIPE_GCS_ENDPOINT: server.url };
      rmSync(join(small, '.pipe', 'remotes'), { recursive: true, force: true });
      const cpu0 = serverCpu(server);
      const pushed = pipe(small, env, 'push', '--json', '--set-current');
      pushCpu = { client: pushed.cpu, server: serverCpu(server) - cpu0 };
      const doc = JSON.parse(pushed.stdout) as { bytesSent: number; uploaded: number };
      if (doc.uploaded !== files)
        throw new Error(`round ${round}: uploaded ${doc.uploaded} of ${files}`);
      pushTimes.push(pushed.seconds);
      const s0 = serverCpu(server);
      const c0 = process.cpuUsage();
      const start = process.hrtime.bigint();
      for (const name of names)
        await bucket.upload(join(small, 'out', 'many', name), {
          destination: `sequential-${round}/${name}`,
          resumable: false,
        });
      seqTimes.push(Number(process.hrtime.bigint() - start) / 1e9);
      const c = process.cpuUsage(c0);
      seqCpu = { client: (c.user + c.system) / 1e6, server: serverCpu(server) - s0 };
    }
    const push = median(pushTimes);
    const seq = median(seqTimes);
    const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    rows.push(
      `| push, ${files} small files (${mb(bytes).toFixed(1)} MB) | ${(files / push).toFixed(0)} files/s, ${(mb(bytes) / push).toFixed(1)} MB/s | median of ${ROUNDS}: ${push.toFixed(2)} s (${list(pushTimes)}); CPU in the last: pipe ${pushCpu.client.toFixed(1)} s + server ${pushCpu.server.toFixed(1)} s |`,
    );
    rows.push(
      `| plain sequential upload of the same ${files} files (bucket.upload, in-process) | ${(files / seq).toFixed(0)} files/s | median of ${ROUNDS}: ${seq.toFixed(2)} s (${list(seqTimes)}); CPU in the last: client ${seqCpu.client.toFixed(1)} s + server ${seqCpu.server.toFixed(1)} s |`,
    );
    rows.push(`| push vs sequential | ${(seq / push).toFixed(1)}x faster | target >= 4x |`);

    const before = (await server.requests()).length;
    const again = pipe(small, env, 'push', '--json');
    const againDoc = JSON.parse(again.stdout) as { bytesSent: number; unchanged: boolean };
    const log = await requestsSince(server, before);
    const uploads = log.filter((r) => r.method === 'POST' || r.method === 'PUT').length;
    rows.push(
      `| unchanged re-push, ${files} files | ${again.seconds.toFixed(2)} s (target < 2 s) | ${againDoc.bytesSent} bytes sent (target 0), ${uploads} upload requests, ${log.length} requests in all (${log.map((r) => `${r.method} ${r.path.replace(/^.*\/b\/bench\//, '')}?prefix=${r.query.prefix ?? ''}`).join('; ')}) |`,
    );

    const pullSmall = workspace(root, 'small-pull', 'out/many', SMALL_STAGE);
    const pulled = pipe(pullSmall, env, 'pull', 'current', '--json');
    rows.push(
      `| pull, ${files} small files into an empty workspace | ${(files / pulled.seconds).toFixed(0)} files/s, ${(mb(bytes) / pulled.seconds).toFixed(1)} MB/s | ${pulled.seconds.toFixed(2)} s, every object sha256-checked |`,
    );

    // --- the same comparison with a round trip to hide ---
    const proxy = await latencyProxy(server.url, LATENCY_MS);
    try {
      const few = workspace(
        root,
        'latency',
        'out/many',
        SMALL_STAGE.replace(`i < ${FILES}`, `i < ${LATENCY_FILES}`),
      );
      pipe(few, {}, 'build');
      // Not spawnSync: the proxy lives in this process's event loop.
      const slowPush = await pipeAsync(
        few,
        { PIPE_REMOTE: `gs://${BUCKET}/latency`, PIPE_GCS_ENDPOINT: proxy.url },
        'push',
        '--json',
      );
      const slowBucket = new Storage({ apiEndpoint: proxy.url }).bucket(BUCKET);
      const start = process.hrtime.bigint();
      for (const name of readdirSync(join(few, 'out', 'many'))) {
        await slowBucket.upload(join(few, 'out', 'many', name), {
          destination: `latency-sequential/${name}`,
          resumable: false,
        });
      }
      const slowSeq = Number(process.hrtime.bigint() - start) / 1e9;
      rows.push(
        `| with ${LATENCY_MS} ms added each way (proxy): push vs sequential, ${LATENCY_FILES} files | ${(slowSeq / slowPush.seconds).toFixed(1)}x faster | push ${slowPush.seconds.toFixed(2)} s (${(LATENCY_FILES / slowPush.seconds).toFixed(0)} files/s), sequential ${slowSeq.toFixed(2)} s (${(LATENCY_FILES / slowSeq).toFixed(0)} files/s) |`,
      );
    } finally {
      proxy.close();
    }

    // --- one big file ---
    const big = workspace(root, 'big', 'out/big.bin', BIG_STAGE);
    const bigEnv = { PIPE_REMOTE: `gs://${BUCKET}/big`, PIPE_GCS_ENDPOINT: server.url };
    pipe(big, {}, 'build');
    const bigBytes = BIG_MB << 20;
    const pushBig = pipe(big, bigEnv, 'push', '--json', '--set-current');
    rows.push(
      `| push, one ${BIG_MB} MiB file | ${(mb(bigBytes) / pushBig.seconds).toFixed(1)} MB/s | ${pushBig.seconds.toFixed(2)} s (resumable upload, md5 checked by the client, sha256 by pipe) |`,
    );
    const pullBig = workspace(root, 'big-pull', 'out/big.bin', BIG_STAGE);
    const pulledBig = pipe(pullBig, bigEnv, 'pull', 'current', '--json');
    rows.push(
      `| pull, one ${BIG_MB} MiB file | ${(mb(bigBytes) / pulledBig.seconds).toFixed(1)} MB/s | ${pulledBig.seconds.toFixed(2)} s, sha256-checked before it lands |`,
    );

    const table = [
      '# pipe push / pull: transfer rates and the unchanged re-push',
      '',
      `Made by \`node --import tsx bench/push-pull.ts\` on ${new Date().toISOString()} (${cpus().length} cores, Node ${process.version}),`,
      `BENCH_FILES=${FILES}, BENCH_BIG_MB=${BIG_MB}. The real \`pipe\` CLI (wall time of the process, start-up included)`,
      'against the test/gcs-server fixture on 127.0.0.1 through @google-cloud/storage; the fixture runs on the same 2 cores.',
      '',
      '| what | rate | details |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n');
    writeFileSync(resultPath('push-pull.md'), table);
    process.stdout.write(table);
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
