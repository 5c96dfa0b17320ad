// keypairs and features, before and after a change, on one built workspace: each stage script run
// the way the runner runs it (docs/stage-contract.md: PIPE_* variables, outputs to a temp path,
// renamed into place on exit 0), under GNU time for wall seconds, CPU seconds and peak RSS, the two
// code versions alternating in one run (2 shared cores: compare rows of the same run only). Each
// output's sha256 is compared with the built workspace's own outputs, so a speed-up that changes a
// byte shows as "differs". Appends a markdown table to --out.
//
//   flock /work/bench.lock node --import tsx bench/checks-stages.ts --from <built ws> \
//     --before <checkout of the old code> [--after <checkout>] [--reps 2] [--out bench/results/checks-stages.md]
//
// <built ws> holds data/clean and data/{keypairs,features} from the old code (bench/stage-run.ts or
// /work/base/prep.sh + pipe build); it is only read. Work folders: bench/work/checks-<side>.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';

const here = fileURLToPath(new URL('../', import.meta.url));
const { values } = parseArgs({
  options: {
    from: { type: 'string' },
    before: { type: 'string' },
    after: { type: 'string', default: here },
    reps: { type: 'string', default: '1' },
    label: { type: 'string', default: '' },
    out: { type: 'string', default: 'bench/results/checks-stages.md' },
  },
});
if (values.from === undefined || values.before === undefined)
  throw new Error('--from <built workspace> and --before <old checkout> are required');
const from = resolve(values.from);
const sides = { before: resolve(values.before), after: resolve(values.after!) };
const OUTPUTS = [
  'data/keypairs/keypairs.parquet',
  'data/features/sequences.parquet',
  'data/features/users.parquet',
  'data/features/summary.json',
];
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const expected = Object.fromEntries(OUTPUTS.map((o) => [o, sha(join(from, o))]));
const params = parse(readFileSync(join(from, 'params.yaml'), 'utf8')) as {
  features: Record<string, number>;
};

const STAGES = {
  keypairs: { out: 'data/keypairs', params: {} },
  features: {
    out: 'data/features',
    params: {
      'features.sequence_length': params.features.sequence_length,
      'features.min_sessions_per_user': params.features.min_sessions_per_user,
    },
  },
} as const;

/** A workspace with `repo`'s stages and lib, reading the built workspace's data/clean. */
function workspace(side: string, repo: string): string {
  const ws = join(here, 'bench/work', `checks-${side}`);
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(join(ws, 'data'), { recursive: true });
  for (const item of ['stages', 'config'])
    cpSync(join(repo, item), join(ws, item), { recursive: true });
  rmSync(join(ws, 'config/.env.local'), { force: true });
  symlinkSync(join(repo, 'lib'), join(ws, 'lib'));
  symlinkSync(join(repo, 'node_modules'), join(ws, 'node_modules'));
  symlinkSync(join(from, 'data/clean'), join(ws, 'data/clean'));
  writeFileSync(join(ws, 'package.json'), '{ "private": true, "type": "module" }\n');
  return ws;
}

interface Run {
  readonly wall: number;
  readonly cpu: number;
  readonly rssMiB: number;
}

function runStage(ws: string, repo: string, stage: keyof typeof STAGES): Run {
  const { out, params: stageParams } = STAGES[stage];
  const temp = join(ws, `.tmp-${stage}`);
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp);
  const tsx = pathToFileURL(join(repo, 'node_modules/tsx/dist/loader.mjs')).href;
  const started = performance.now();
  const run = spawnSync(
    '/usr/bin/time',
    ['-f', 'TIME %U %S %M', process.execPath, '--import', tsx, join(ws, 'stages', `${stage}.ts`)],
    {
      cwd: ws,
      encoding: 'utf8',
      env: {
        ...process.env,
        CI: 'true',
        PIPE_WORKSPACE: ws,
        PIPE_STAGE: stage,
        PIPE_OUTS: JSON.stringify({ [out]: join(temp, out) }),
        PIPE_PARAMS: JSON.stringify(stageParams),
      },
    },
  );
  const wall = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${stage} failed in ${ws}:\n${run.stderr}`);
  rmSync(join(ws, out), { recursive: true, force: true });
  renameSync(join(temp, out), join(ws, out));
  rmSync(temp, { recursive: true });
  const time = /TIME ([\d.]+) ([\d.]+) (\d+)/.exec(run.stderr);
  if (time === null) throw new Error(`no GNU time line in ${run.stderr}`);
  return {
    wall,
    cpu: Number(time[1]) + Number(time[2]),
    rssMiB: Math.round(Number(time[3]) / 1024),
  };
}

const git = (repo: string, ...args: string[]) =>
  spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).stdout.trim();
// A '+' marks uncommitted changes to the stages.
const commit = (repo: string) =>
  `${git(repo, 'log', '-1', '--format=%h')}${git(repo, 'status', '--porcelain', 'stages') === '' ? '' : '+'}`;
const rows: string[] = [];
for (let rep = 0; rep < Number(values.reps); rep++) {
  for (const [side, repo] of Object.entries(sides)) {
    const ws = workspace(side, repo);
    const keypairs = runStage(ws, repo, 'keypairs');
    const features = runStage(ws, repo, 'features');
    const same = OUTPUTS.every((o) => existsSync(join(ws, o)) && sha(join(ws, o)) === expected[o]);
    const cell = (r: Run) => `${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ${r.rssMiB}`;
    rows.push(
      `| ${new Date().toISOString().slice(0, 16)} | ${side} ${commit(repo)} | ${values.label} | ${cell(keypairs)} | ${cell(features)} | ${same ? 'same' : 'DIFFERS'} |`,
    );
    process.stdout.write(`${rows.at(-1)}\n`);
  }
}
const outPath = join(here, values.out!);
if (!existsSync(outPath)) {
  appendFileSync(
    outPath,
    '# keypairs and features stages, before and after (bench/checks-stages.ts)\n\n' +
      "Each stage script run as the runner runs it, on a built workspace's data/clean; wall and CPU seconds and peak RSS (MiB) from GNU time; " +
      '"outputs" compares the sha256 of keypairs.parquet, sequences.parquet, users.parquet and summary.json with the built workspace\'s. ' +
      'DuckDB threads 2, memory limit 1200MB (config/.env.base). 2 shared cores: compare rows of one run.\n',
  );
}
appendFileSync(
  outPath,
  `\n${from}, ${new Date().toISOString().slice(0, 16)} UTC, \`${process.argv.slice(2).join(' ')}\`\n\n` +
    '| when (UTC) | code | label | keypairs s | keypairs CPU s | keypairs MiB | features s | features CPU s | features MiB | outputs |\n' +
    '|---|---|---|---:|---:|---:|---:|---:|---:|---|\n' +
    rows.join('\n') +
    '\n',
);
