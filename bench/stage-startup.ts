// Benchmark: what starting a TypeScript stage costs under tsx and compiled (issue 12: a +1-upload
// incremental build runs four stages, each paying its start-up).
//
//   a copy of the repo's pipeline, built once on samples/ (tiny: ~18k keystrokes)
//   then, N rounds, each stage (clean, keypairs, features) run from scratch twice, in alternating
//   order, as the runner starts it (same env, fresh temp outs):
//     tsx:       node --import tsx stages/<name>.ts
//     compiled:  node --enable-source-maps .pipe/compiled/<key>/stages/<name>.js
//     (and, to price the source maps, the same tree with its inline maps cut, without the flag)
//   and `node -e 0` for the floor; medians of the N wall times per stage and way.
//
// The stage work on this input is small, so the difference is start-up (tsx's loader thread, that
// every import crosses). Both ways run in the same rounds: a shared machine's load hits both alike.
// Run:  npm run bench:startup -- [--rounds 15] [--stages clean,keypairs,features]
// Writes BENCH_RESULTS/stage-startup.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { stageLaunch } from '../lib/build/compiled-stage.js';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { copyRepoPipeline } from '../test/helpers/repo-copy.js';
import { benchWork, repo, resultPath } from './paths.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '15' },
    stages: { type: 'string', default: 'clean,keypairs,features' },
  },
});
const rounds = Number(values.rounds);
const STAGES = values.stages.split(',');
const TSX = createRequire(join(repo, 'package.json')).resolve('tsx');
const pipeBin = join(repo, 'bin/pipe.js');

interface LockEntry {
  readonly cmd: Record<string, Sha256Hex>;
  readonly params: Record<string, unknown>;
  readonly outs: Record<string, unknown>;
  readonly deps: Record<string, unknown>;
}

mkdirSync(benchWork, { recursive: true });
const root = copyRepoPipeline('stage-startup-', benchWork);
const built = spawnSync('node', [pipeBin, 'build', 'features', '--no-remote-cache'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, CI: 'true' },
});
if (built.status !== 0) throw new Error(`the first build failed:\n${built.stderr}`);
const lock = JSON.parse(readFileSync(join(root, 'pipeline.lock'), 'utf8')) as {
  stages: Record<string, LockEntry>;
};

type Way = 'tsx' | 'compiled' | 'no-maps';
const WAYS: readonly Way[] = ['tsx', 'compiled', 'no-maps'];

/**
 * A copy of the compiled tree at the same depth (its files find their sources by relative URLs)
 * with every inline source map cut; returns the copy's entry.
 */
function withoutMaps(entry: string): string {
  const key = relative(join(root, '.pipe/compiled'), entry).split('/')[0]!;
  const tree = join(root, '.pipe/compiled', key);
  const copy = join(root, '.pipe/compiled-no-maps', key);
  const cut = (from: string, to: string): void => {
    if (statSync(from).isDirectory()) {
      mkdirSync(to, { recursive: true });
      for (const name of readdirSync(from)) cut(join(from, name), join(to, name));
    } else {
      const text = readFileSync(from, 'utf8');
      writeFileSync(to, text.replace(/\n\/\/# sourceMappingURL=data:[^\n]*\n?$/, '\n'));
    }
  };
  cut(tree, copy);
  return join(copy, relative(tree, entry));
}

/** The argv of each way to start `stage`. */
async function ways(stage: string): Promise<Record<Way, string[]>> {
  const script = `stages/${stage}.ts`;
  const launch = await stageLaunch(root, script, lock.stages[stage]!.cmd, process.env);
  if (launch.kind !== 'compiled') throw new Error(`${stage} does not compile: ${launch.why}`);
  return {
    tsx: ['--import', TSX, script],
    compiled: ['--enable-source-maps', launch.entry],
    'no-maps': [withoutMaps(launch.entry)],
  };
}

/** One run of `stage` from scratch as the runner starts it; its wall time in ms. */
function timeRun(stage: string, args: readonly string[]): number {
  const entry = lock.stages[stage]!;
  const tmp = join(root, '.pipe/tmp', `bench-${stage}`);
  rmSync(tmp, { recursive: true, force: true });
  const outs = Object.fromEntries(Object.keys(entry.outs).map((o) => [o, join(tmp, 'outs', o)]));
  for (const p of Object.values(outs)) mkdirSync(join(p, '..'), { recursive: true });
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      CI: 'true',
      PIPE_WORKSPACE: root,
      PIPE_STAGE: stage,
      PIPE_DEPS: JSON.stringify(Object.keys(entry.deps)),
      PIPE_OUTS: JSON.stringify(outs),
      ...Object.fromEntries(Object.values(outs).map((p, i) => [`PIPE_OUT_${i + 1}`, p])),
      PIPE_PARAMS: JSON.stringify(entry.params),
      PIPE_METRICS_FILE: join(tmp, 'metrics.json'),
      PIPE_CLI: pipeBin,
    },
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${stage} (${args.join(' ')}) failed:\n${r.stderr}`);
  return ms;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const argvOf = Object.fromEntries(await Promise.all(STAGES.map(async (s) => [s, await ways(s)])));
const times: Record<string, Record<Way, number[]>> = {};
const floor: number[] = [];
for (const s of STAGES) times[s] = { tsx: [], compiled: [], 'no-maps': [] };
const loadBefore = loadavg()[0]!;
for (let round = 0; round < rounds; round++) {
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0']);
  floor.push(Number(process.hrtime.bigint() - t) / 1e6);
  for (const s of STAGES) {
    // Rotate which way goes first, so none always runs on a warmer cache.
    const order = WAYS.map((_, i) => WAYS[(i + round) % WAYS.length]!);
    for (const way of order) times[s]![way].push(timeRun(s, argvOf[s]![way]));
  }
}
const loadAfter = loadavg()[0]!;

const ms = (x: number) => `${Math.round(x)} ms`;
const rows = STAGES.map((s) => {
  const tsx = median(times[s]!.tsx);
  const compiled = median(times[s]!.compiled);
  const noMaps = median(times[s]!['no-maps']);
  return `| ${s} | ${ms(tsx)} | ${ms(compiled)} | ${ms(tsx - compiled)} | ${Math.round((100 * (tsx - compiled)) / tsx)} % | ${ms(noMaps)} |`;
});
const table = `# Stage start-up: tsx vs compiled (\`npm run bench:startup\`)

Each stage of the keystroke pipeline run from scratch on the committed samples/ (tiny), as the
runner starts it, ${rounds} rounds, every way in each round in rotating order; medians of the
wall time of the stage process. The last column prices the source maps: the same compiled tree with
its inline maps cut, run without \`--enable-source-maps\`. \`node -e 0\`: ${ms(median(floor))}.
${availableParallelism()} cores, load ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after; node ${process.versions.node}.

| stage | tsx (\`node --import tsx\`) | compiled (\`node --enable-source-maps\`) | saved | saved share | compiled, no source maps |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
writeFileSync(resultPath('stage-startup.md'), table);
process.stdout.write(table);
rmSync(root, { recursive: true, force: true });
