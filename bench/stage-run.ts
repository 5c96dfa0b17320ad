// One measured `pipe build features` on a generated keystroke set, for comparing a change with the
// code before it: wall seconds per stage (the runner's stage-done events), the peak RSS summed over
// the pipe process tree and per stage (bench/keystrokes/measure.ts), and the sha256 of every output
// file, so a speed change that alters a single byte of output shows up in the same table.
// Appends one row to a markdown table (created with its header when missing).
//
//   node --import tsx bench/stage-run.ts --format aalto --keystrokes 1000000 --label "one-pass parse" \
//     [--repo /path/to/other/checkout] [--out bench/results/aalto-stages.md]
//
// The workspace is made like keystroke-bench.ts's (this repo's pipeline, params, config and stages;
// the set's uploads hard-linked as samples) under bench/work/stage-run-<format>-<N>.
// Run it under `flock /work/bench.lock` at 10M keystrokes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure } from './keystrokes/measure.js';

const here = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    repo: { type: 'string', default: here },
    format: { type: 'string', default: 'aalto' },
    keystrokes: { type: 'string', default: '1000000' },
    label: { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results/aalto-stages.md' },
  },
});
// --repo: the checkout whose stages, lib and built bin/pipe.js run (e.g. a worktree of the commit
// before a change); sets and results stay in this one.
const repo = values.repo!;
const STAGES = ['download', 'clean', 'keypairs', 'features'];
const set = join(here, 'bench/work/sets', `k${values.keystrokes}`, values.format!);
if (!existsSync(set))
  throw new Error(`no generated set at ${set} (bench/keystrokes/generate-set.ts makes it)`);
const ws = join(here, 'bench/work', `stage-run-${values.format}-${values.keystrokes}`);
prepareBenchWorkspace(repo, ws, set, values.format!);

const stageOf = (cmdline: string) => STAGES.find((s) => cmdline.includes(`stages/${s}.`));
// Under GNU time for the CPU seconds of the whole tree (a waited-for child's usage adds to its
// parent's): on 2 shared cores, CPU time moves less with the neighbours' load than wall time.
const m = await measure(
  ws,
  '/usr/bin/time',
  [
    '-f',
    'CPU %U %S',
    process.execPath,
    join(repo, 'bin/pipe.js'),
    'build',
    'features',
    '--log-format',
    'json',
  ],
  { ...process.env, CI: 'true' },
  stageOf,
);
if (m.code !== 0)
  throw new Error(
    `pipe build features failed (${m.code}):\n${m.stdout.slice(-2000)}\n${m.stderr.slice(-2000)}`,
  );
const events = m.stdout
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as { type: string; stage?: string; durationMs?: number });
const seconds = Object.fromEntries(
  events.filter((e) => e.type === 'stage-done').map((e) => [e.stage!, e.durationMs! / 1000]),
);
const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(m.stderr);
const cpuSeconds = cpu === null ? '-' : (Number(cpu[1]) + Number(cpu[2])).toFixed(1);
const mib = (bytes: number | undefined) =>
  bytes === undefined ? '-' : String(Math.round(bytes / 2 ** 20));

// Output fingerprint: sha256 over the files of data/{clean,keypairs,features} in path order.
const outputs = createHash('sha256');
for (const dir of ['clean', 'keypairs', 'features']) {
  for (const file of readdirSync(join(ws, 'data', dir)).sort())
    outputs.update(`${dir}/${file}\0`).update(readFileSync(join(ws, 'data', dir, file)));
}
const commit = spawnSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], {
  encoding: 'utf8',
}).stdout.trim();
const dirty =
  spawnSync('git', ['-C', repo, 'status', '--porcelain', 'stages', 'config'], {
    encoding: 'utf8',
  }).stdout.trim() !== ''
    ? '+'
    : '';
const outPath = join(here, values.out!);
if (!existsSync(outPath)) {
  appendFileSync(
    outPath,
    `# pipe build features, per stage (bench/stage-run.ts)\n\nSeconds are wall time from the runner's stage-done events; RSS is the sampled peak summed over the process tree (MiB); ` +
      `"outputs" is sha256 over data/{clean,keypairs,features}/* (equal = byte-identical outputs). 2 shared cores: compare rows of the same hour.\n\n` +
      `| when (UTC) | commit | label | format | keystrokes | total s | ${STAGES.map((s) => `${s} s`).join(' | ')} | peak tree MiB | ${STAGES.map((s) => `${s} MiB`).join(' | ')} | outputs | CPU s (tree) |\n` +
      `|---|---|---|---|---:|---:|${STAGES.map(() => '---:').join('|')}|---:|${STAGES.map(() => '---:').join('|')}|---|---:|\n`,
  );
}
const row =
  `| ${new Date().toISOString().slice(0, 16)} | ${commit}${dirty} | ${values.label} | ${values.format} | ${values.keystrokes} | ${m.seconds.toFixed(1)} | ` +
  `${STAGES.map((s) => seconds[s]?.toFixed(1) ?? '-').join(' | ')} | ${mib(m.peakTreeRss)} | ${STAGES.map((s) => mib(m.peakBySubtree[s])).join(' | ')} | ${outputs.digest('hex').slice(0, 12)} | ${cpuSeconds} |\n`;
appendFileSync(outPath, row);
process.stdout.write(row);
