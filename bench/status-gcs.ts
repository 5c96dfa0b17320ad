// `pipe status` with a gs:// upload source of BENCH_OBJECTS objects (default 241,605, named like
// web-app uploads) on the GCS test server (test/gcs-server) with BENCH_LATENCY_MS (default 10)
// added each way to every request:
//   node --import tsx bench/status-gcs.ts     (BENCH_OBJECTS, BENCH_LATENCY_MS, BENCH_ROUNDS=5)
// A temp workspace holds one stage reading ${UPLOADS_URL}; it is built once (no latency), then
// `pipe status` runs BENCH_ROUNDS times as a no-op and BENCH_ROUNDS times after one new object is
// uploaded through the client (each round a fresh name; the output must name it). Wall times are medians of the real
// CLI as a child process; the load average is recorded (the machine is shared).
// Writes BENCH_RESULTS (default bench/results/)/status-gcs.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { startGcsServer } from '../test/gcs-server/index.js';
import { resultPath } from './paths.js';
import { uploadNames } from './upload-names.js';

const OBJECTS = Number(process.env.BENCH_OBJECTS ?? 241_605);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BUCKET = 'bench-uploads';
const REPO = new URL('..', import.meta.url).pathname;
const PIPE = join(REPO, 'bin/pipe.js');

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server = await startGcsServer([BUCKET]);
const base = mkdtempSync(join(tmpdir(), 'bench-status-gcs-'));
try {
  await server.bulkCreate(BUCKET, uploadNames(OBJECTS));
  const ws = join(base, 'ws');
  mkdirSync(join(ws, 'stages'), { recursive: true });
  mkdirSync(join(ws, 'config'));
  symlinkSync(join(REPO, 'node_modules'), join(ws, 'node_modules'));
  writeFileSync(
    join(ws, 'pipeline.yaml'),
    `stages:\n  count:\n    cmd: stages/count.mjs\n    deps:\n      - \${UPLOADS_URL}\n    outs: [data/count.txt]\n`,
  );
  writeFileSync(
    join(ws, 'stages/count.mjs'),
    "import { readFileSync, writeFileSync } from 'node:fs';\n" +
      `const s = JSON.parse(readFileSync(process.env.PIPE_SOURCES, 'utf8')).sources['\${UPLOADS_URL}'];\n` +
      "writeFileSync(JSON.parse(process.env.PIPE_OUTS)['data/count.txt'], String(s.objects.length));\n",
  );
  writeFileSync(
    join(ws, 'config/.env.local'),
    `UPLOADS_URL=gs://${BUCKET}/uploads\nPIPE_GCS_ENDPOINT=${server.url}\n`,
  );
  const pipe = (...args: string[]) => {
    const start = performance.now();
    const r = spawnSync(process.execPath, [PIPE, ...args], { cwd: ws, encoding: 'utf8' });
    const ms = performance.now() - start;
    if (r.status !== 0) throw new Error(`pipe ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return { ms, stdout: r.stdout };
  };
  pipe('build');
  await server.setLatency(LATENCY_MS);
  const noop: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const r = pipe('status');
    if (!r.stdout.includes('everything is fresh')) throw new Error(`not fresh:\n${r.stdout}`);
    noop.push(r.ms);
  }
  const uploads = new Storage({ apiEndpoint: server.url }).bucket(BUCKET);
  const changed: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const name = `uploads/user-new/bench-${i}.session.json`;
    // The server closes idle keep-alive sockets while a status runs: a reused one can fail (EPIPE).
    for (let attempt = 1; ; attempt++) {
      try {
        await uploads.file(name).save('{}', { resumable: false });
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    const r = pipe('status');
    const line = `dep added: gs://${BUCKET}/${name}`;
    if (!r.stdout.includes(line)) throw new Error(`"${line}" not in:\n${r.stdout}`);
    changed.push(r.ms);
  }
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const table = [
    '# `pipe status` with a gs:// upload source (bench/status-gcs.ts)',
    '',
    `${OBJECTS.toLocaleString('en')} objects on the GCS test server, ${LATENCY_MS} ms added each way per request;`,
    `medians of ${ROUNDS}, the real CLI as a child process. ${cpus().length} cores, load average`,
    `${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} at the end (shared machine).`,
    '',
    '| case | median | all runs (s) | target |',
    '|---|---|---|---|',
    `| no-op (everything fresh) | ${s(median(noop))} s | ${noop.map(s).join(', ')} | <= 3 s |`,
    `| one new object (named in the output) | ${s(median(changed))} s | ${changed.map(s).join(', ')} | |`,
    '',
  ].join('\n');
  writeFileSync(resultPath('status-gcs.md'), table);
  process.stdout.write(`${table}\n`);
} finally {
  await server.stop();
  rmSync(base, { recursive: true, force: true });
}
