// Benchmark: the runner's own cost at 10M web-app keystrokes (241,605 upload files), this
// checkout's pipe against a peer checkout's (default /work/main, the code before) in the same run.
//
//   sets/k<N>/<format> ──hard links──▶ ws-noop-<format>-<N>/samples   (prepared like /work/base/prep.sh)
//     1. one `pipe build features` (this checkout), under `flock /work/bench.lock`: the runner
//        process's own RSS (not its stages') sampled from /proc, peak and while each stage ran;
//     2. --runs no-op `pipe build features`, peer and this alternating: wall, CPU (user + sys) and
//        the runner's max RSS, from GNU time; plus, as a breakdown, `pipe --version` (start-up)
//        and `pipe status features` (load + observe, no mutex, no lock write);
//     3. cold hashing: `pipe status download` with .pipe/state moved aside (samples and data/raw:
//        every file read and hashed, as after a download), once per checkout; the state is put back.
// Medians. The machine is shared (2 cores): the table states the load average, and CPU time is the
// figure a loaded machine distorts least.
//
// Run:  npx tsc -p tsconfig.json && flock /work/bench.lock node --import tsx bench/noop-large.ts
//       [--keystrokes 10000000] [--format webapp] [--runs 5] [--peer /work/main] [--reuse]
// (--reuse: keep an already built workspace; the first build's row is then omitted.)
// Writes bench/results/noop-large.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    keystrokes: { type: 'string', default: '10000000' },
    format: { type: 'string', default: 'webapp' },
    runs: { type: 'string', default: '5' },
    peer: { type: 'string', default: '/work/main' },
    reuse: { type: 'boolean', default: false },
  },
});
const size = Number(values.keystrokes);
const format = values.format!;
const ws = join(repo, 'bench/work', `ws-noop-${format}-${size}`);
const self = join(repo, 'bin/pipe.js');
const peer = join(values.peer!, 'bin/pipe.js');
const env = { ...process.env, CI: 'true' };
const log = (line: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const MiB = 2 ** 20;

function prepare(): void {
  prepareBenchWorkspace(repo, ws, join(repo, 'bench/work/sets', `k${size}`, format), format);
}

const rssOf = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return m === null ? 0 : Number(m[1]) * 1024;
  } catch {
    return 0;
  }
};

/** The first build: the runner's RSS, overall peak and the most seen while each stage ran. */
function firstBuild(): Promise<{ seconds: number; peak: number; byStage: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [self, 'build', 'features', '--log-format', 'json'], {
      cwd: ws,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let running = '(observing)';
    let peak = 0;
    const byStage: Record<string, number> = {};
    let buffered = '';
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const e = JSON.parse(line) as { type: string; stage?: string };
        if (e.type === 'stage-start') running = e.stage!;
        if (e.type === 'stage-done') running = `(after ${e.stage})`;
      }
    });
    const timer = setInterval(() => {
      const rss = rssOf(child.pid!, 'VmRSS');
      peak = Math.max(peak, rssOf(child.pid!, 'VmHWM'));
      byStage[running] = Math.max(byStage[running] ?? 0, rss);
    }, 100);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) reject(new Error(`first build exited ${code}`));
      else resolve({ seconds: (performance.now() - started) / 1000, peak, byStage });
    });
  });
}

interface Timed {
  readonly wall: number;
  readonly cpu: number;
  readonly rss: number;
}

/** `node <bin> args` under GNU time: wall, user + sys, max RSS of the (single) pipe process. */
function timed(bin: string, args: readonly string[]): Timed {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %e %U %S %M', process.execPath, bin, ...args], {
    cwd: ws,
    env,
    encoding: 'utf8',
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('TIME '));
  if (r.status !== 0 || line === undefined)
    throw new Error(
      `${bin} ${args.join(' ')} failed (${r.status}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`,
    );
  if (args[0] === 'build' && !/ 0 ran/.test(r.stdout))
    throw new Error(`a no-op build ran stages:\n${r.stdout.slice(-2000)}`);
  const [wall, user, sys, kb] = line.slice(5).split(' ').map(Number) as [
    number,
    number,
    number,
    number,
  ];
  return { wall, cpu: user + sys, rss: kb * 1024 };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1
    ? s[(s.length - 1) / 2]!
    : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const medianOf = (runs: readonly Timed[]): Timed => ({
  wall: median(runs.map((r) => r.wall)),
  cpu: median(runs.map((r) => r.cpu)),
  rss: median(runs.map((r) => r.rss)),
});

const built = existsSync(join(ws, 'pipeline.lock'));
let first: Awaited<ReturnType<typeof firstBuild>> | undefined;
if (!values.reuse || !built) {
  log(`preparing ${ws} ...`);
  prepare();
  log('first build (this checkout) ...');
  first = await firstBuild();
  log(
    `first build ${first.seconds.toFixed(0)} s, runner peak ${(first.peak / MiB).toFixed(0)} MiB`,
  );
}

const checkouts = [
  { name: `peer (${values.peer})`, bin: peer },
  { name: 'this checkout', bin: self },
];
// One warm-up each: the first no-op after a build rehashes files written within the racy window.
for (const c of checkouts) timed(c.bin, ['build', 'features']);
const rows = checkouts.map(() => ({
  build: [] as Timed[],
  status: [] as Timed[],
  version: [] as Timed[],
}));
for (let i = 0; i < Number(values.runs); i++) {
  checkouts.forEach((c, k) => {
    rows[k]!.build.push(timed(c.bin, ['build', 'features']));
    rows[k]!.status.push(timed(c.bin, ['status', 'features']));
    rows[k]!.version.push(timed(c.bin, ['--version']));
  });
  log(`no-op round ${i + 1}: ${rows.map((r) => r.build.at(-1)!.wall.toFixed(2)).join(' s vs ')} s`);
}
const state = join(ws, '.pipe/state');
const cold = checkouts.map((c) => {
  renameSync(state, `${state}.kept`);
  rmSync(join(ws, '.pipe/folders'), { force: true });
  try {
    return timed(c.bin, ['status', 'download']);
  } finally {
    renameSync(`${state}.kept`, state);
  }
});
log(`cold status download: ${cold.map((t) => t.wall.toFixed(1)).join(' s vs ')} s`);

const rev = spawnSync('git', ['describe', '--always', '--dirty'], {
  cwd: repo,
  encoding: 'utf8',
}).stdout.trim();
const f = (t: Timed) => `${t.wall.toFixed(2)} | ${t.cpu.toFixed(2)} | ${(t.rss / MiB).toFixed(0)}`;
const lines = [
  `# The runner at ${size.toLocaleString('en-US')} ${format} keystrokes: no-op build, its memory, cold hashing`,
  '',
  `Workspace \`${ws.slice(repo.length)}\` (the set's ${format} uploads hard-linked as samples), ${first === undefined ? 'reused as an earlier run built it' : 'built once with this checkout'}; this checkout at ${rev};`,
  `then ${values.runs} rounds alternating the peer (\`${values.peer}\`) and this checkout. Medians; seconds and MiB.`,
  `Generated by \`node --import tsx bench/noop-large.ts${process.argv
    .slice(2)
    .map((a) => ` ${a}`)
    .join('')}\` on ${new Date().toISOString().slice(0, 16)}Z,`,
  `${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the end (a shared machine: other jobs run).`,
  '',
  '| checkout | no-op `build features` wall | CPU | runner max RSS | `status features` wall | CPU | RSS | `--version` wall | cold `status download` wall | CPU | RSS |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...checkouts.map((c, k) => {
    const r = rows[k]!;
    return `| ${c.name} | ${f(medianOf(r.build))} | ${f(medianOf(r.status))} | ${medianOf(r.version).wall.toFixed(2)} | ${f(cold[k]!)} |`;
  }),
  '',
  `No-op wall, this checkout vs peer: ${(medianOf(rows[1]!.build).wall / medianOf(rows[0]!.build).wall).toFixed(2)}x; CPU ${(medianOf(rows[1]!.build).cpu / medianOf(rows[0]!.build).cpu).toFixed(2)}x.`,
];
if (first !== undefined) {
  lines.push(
    '',
    `First build (this checkout): ${first.seconds.toFixed(0)} s; the runner process's own peak RSS ${(first.peak / MiB).toFixed(0)} MiB.`,
    'Runner RSS while each stage ran (sampled every 100 ms; a stage runs in its own process, not counted here):',
    '',
    '| phase | runner RSS MiB |',
    '|---|---:|',
    ...Object.entries(first.byStage).map(([s, b]) => `| ${s} | ${(b / MiB).toFixed(0)} |`),
  );
}
writeFileSync(join(repo, 'bench/results/noop-large.md'), `${lines.join('\n')}\n`);
log('wrote bench/results/noop-large.md');
