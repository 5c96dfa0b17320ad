// Benchmark: this checkout's pipe against a peer checkout's (another commit's worktree) on the same
// generated uploads, in the same run, alternating, so a shared machine's load hits both alike:
//
//   sets/k<N>/<format> ──hard links──▶ ws-peer-<who>-<format>-<N>/samples/<format>
//     per round and checkout: a fresh workspace, `pipe build features` (wall, peak RSS of the
//     process tree), then --status-runs no-op `pipe status features` (wall) on the built workspace.
//
// The ratio column is this / peer: below 1 is faster. Medians over --rounds rounds.
// Run:  npm run bench:peer -- --peer <checkout>
//       [--keystrokes 10000000] [--formats webapp,aalto] [--rounds 2] [--status-runs 5]
// The peer needs its own `npx tsc -p tsconfig.json` and node_modules. The generated set lives in
// BENCH_WORK/sets (made on first use; 10M takes a minute or two). Writes BENCH_RESULTS/build-peer.md.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSet } from './keystrokes/generate-set.js';
import { measure } from './keystrokes/measure.js';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';
import { benchWork, repo, resultPath } from './paths.js';

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    keystrokes: { type: 'string', default: '10000000' },
    formats: { type: 'string', default: 'webapp,aalto' },
    rounds: { type: 'string', default: '2' },
    'status-runs': { type: 'string', default: '5' },
    seed: { type: 'string', default: '2018' },
  },
});
if (values.peer === undefined) throw new Error('--peer <checkout> is required');
const peer = resolve(values.peer);
const size = Number(values.keystrokes);
const rounds = Number(values.rounds);
const statusRuns = Number(values['status-runs']);
const work = benchWork;
const env = { ...process.env, CI: 'true' };
const checkouts = { peer, this: repo } as const;
type Who = keyof typeof checkouts;

interface Sample {
  build: number;
  rss: number;
  status: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function gitHead(dir: string): string {
  const r = spawnSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' });
  return r.stdout.trim().slice(0, 72);
}

async function round(who: Who, format: string, uploads: string): Promise<Sample> {
  const checkout = checkouts[who];
  const ws = join(work, `ws-peer-${who}-${format}-${size}`);
  prepareBenchWorkspace(checkout, ws, uploads, format);
  const bin = join(checkout, 'bin/pipe.js');
  const built = await measure(ws, process.execPath, [bin, 'build', 'features'], env);
  if (built.code !== 0)
    throw new Error(`${who}: build failed in ${ws}:\n${built.stderr.slice(-2000)}`);
  const times: number[] = [];
  for (let k = 0; k < statusRuns; k++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [bin, 'status', 'features'], { cwd: ws, env });
    if (r.status !== 0)
      throw new Error(`${who}: status not fresh after build:\n${r.stdout}${r.stderr}`);
    times.push((performance.now() - t) / 1000);
  }
  rmSync(ws, { recursive: true, force: true });
  return { build: built.seconds, rss: built.peakTreeRss, status: median(times) };
}

const rows: string[] = [];
for (const format of values.formats!.split(',')) {
  const set = ensureSet(join(work, 'sets', `k${size}`), size, Number(values.seed));
  const uploads = join(work, 'sets', `k${size}`, format);
  const samples: Record<Who, Sample[]> = { peer: [], this: [] };
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first, so neither always runs on a warmer page cache.
    const order: Who[] = r % 2 === 0 ? ['peer', 'this'] : ['this', 'peer'];
    for (const who of order) {
      const s = await round(who, format, uploads);
      samples[who].push(s);
      console.log(
        `${format} round ${r + 1} ${who}: build ${s.build.toFixed(1)} s, status ${s.status.toFixed(2)} s`,
      );
    }
  }
  const m = (who: Who, k: keyof Sample) => median(samples[who].map((s) => s[k]));
  const mib = (b: number) => `${Math.round(b / 2 ** 20).toLocaleString('en')} MiB`;
  rows.push(
    `| ${format} | ${set.keystrokes.toLocaleString('en')} | ${m('peer', 'build').toFixed(1)} s | ${m('this', 'build').toFixed(1)} s | ${(m('this', 'build') / m('peer', 'build')).toFixed(2)} | ${mib(m('peer', 'rss'))} | ${mib(m('this', 'rss'))} | ${m('peer', 'status').toFixed(2)} s | ${m('this', 'status').toFixed(2)} s | ${(m('this', 'status') / m('peer', 'status')).toFixed(2)} |`,
  );
}

const table = [
  '# This checkout against a peer: full build and no-op status, same run',
  '',
  `- peer: \`${gitHead(peer)}\``,
  `- this: \`${gitHead(repo)}\``,
  `- ${rounds} rounds per checkout, alternating; no-op \`pipe status features\` median of ${statusRuns};`,
  `  ${availableParallelism()} cores, load average at the end ${loadavg()[0]!.toFixed(2)}`,
  '- made by `bench/build-peer.ts`',
  '',
  '| format | keystrokes | build, peer | build, this | ratio | peak RSS, peer | peak RSS, this | no-op status, peer | no-op status, this | ratio |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
].join('\n');
writeFileSync(resultPath('build-peer.md'), table);
console.log(table);
