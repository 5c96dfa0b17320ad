// Measures: how long `pipe status` takes to say "nothing changed" (no-op) and "this one file
// changed", on N small upload files (`uploads/<user>/<session>.json`, a few hundred bytes) feeding
// a 4-stage chain. Medians of RUNS runs, wall and CPU seconds, all tools in the same run (a shared
// machine is noisy; compare within a run).
// Peers: GNU `make -r -q` (mtime only, the floor) and `snakemake -n` (also mtime-based).
//
//   uploads/** ──▶ s1 ──▶ s2 ──▶ s3 ──▶ s4        (pipe: out/, make: make-out/, snakemake: snake-out/)
//
// Run:  npm run bench:status [-- N...]      (default N: 1000 10000 100000; smoke: -- 200)
//   or: npx tsc -p tsconfig.json && npx tsx bench/status-vs-make.ts [N...]
// Needs make, snakemake (apt-get install snakemake) and GNU time (/usr/bin/time) on the machine.
// Writes status.md under BENCH_RESULTS (bench/paths.ts); work trees under BENCH_WORK.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repo, resultPath, workPath } from './paths.js';

const pipeBin = join(repo, 'bin', 'pipe.js');
const sizes = process.argv.slice(2).map(Number);
const NS = sizes.length > 0 ? sizes : [1_000, 10_000, 100_000];
const RUNS = 5;
const FILES_PER_USER = 100;

/** Wall time and CPU time (user + sys, from GNU time), in ms. CPU time is what a shared, loaded
 * machine distorts least: wall time also counts waiting for a core. */
interface Timing {
  wall: number;
  cpu: number;
}

function run(cwd: string, cmd: string, args: string[], okCodes = [0]): Timing {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '__cpu %U %S', cmd, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    maxBuffer: 1 << 28,
  });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status === null || !okCodes.includes(r.status)) {
    throw new Error(
      `${cmd} ${args.join(' ')} in ${cwd} exited ${r.status}:\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`,
    );
  }
  const m = /__cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wall, cpu: m === null ? NaN : (Number(m[1]) + Number(m[2])) * 1000 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(cwd: string, cmd: string, args: string[], okCodes: number[]): Timing {
  run(cwd, cmd, args, okCodes); // warm-up: page cache, and pipe's state cache settles
  const runs = Array.from({ length: RUNS }, () => run(cwd, cmd, args, okCodes));
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}

const STAGE = (
  prev: string | undefined,
  n: number,
): string => `import { writeFileSync, readFileSync } from 'node:fs';
const outs = JSON.parse(process.env.PIPE_OUTS);
writeFileSync(outs['out/s${n}.txt'], ${prev === undefined ? "'s1\\n'" : `readFileSync('${prev}', 'utf8') + 's${n}\\n'`});
`;

function generate(n: number): string {
  const dir = workPath(`status-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  const old = Date.now() / 1000 - 3600; // an hour ago: outside the state cache's racy window
  for (let i = 0; i < n; i++) {
    const user = `user${String(Math.floor(i / FILES_PER_USER)).padStart(5, '0')}`;
    const file = join(
      dir,
      'uploads',
      user,
      `session${String(i % FILES_PER_USER).padStart(3, '0')}.json`,
    );
    if (i % FILES_PER_USER === 0) mkdirSync(join(dir, 'uploads', user), { recursive: true });
    const keys = Array.from(
      { length: 6 },
      (_, k) =>
        `{"key":${65 + ((i + k) % 26)},"down":${i * 10 + k * 97},"up":${i * 10 + k * 97 + 80}}`,
    );
    writeFileSync(file, `{"user":"${user}","session":${i},"keystrokes":[${keys.join(',')}]}\n`);
    utimesSync(file, old, old);
  }
  mkdirSync(join(dir, 'stages'));
  const stages = [1, 2, 3, 4].map((k) => {
    const dep = k === 1 ? 'uploads' : `out/s${k - 1}.txt`;
    writeFileSync(join(dir, 'stages', `s${k}.mjs`), STAGE(k === 1 ? undefined : dep, k), {
      flag: 'w',
    });
    return `  s${k}:\n    cmd: stages/s${k}.mjs\n    deps: [${dep}]\n    outs: [out/s${k}.txt]\n`;
  });
  writeFileSync(join(dir, 'pipeline.yaml'), `stages:\n${stages.join('')}`);
  for (let k = 1; k <= 4; k++) utimesSync(join(dir, 'stages', `s${k}.mjs`), old, old);
  writeFileSync(
    join(dir, 'Makefile'),
    [
      'UPLOADS := $(wildcard uploads/*/*.json)',
      'make-out/s4.txt: make-out/s3.txt ; cat $< > $@',
      'make-out/s3.txt: make-out/s2.txt ; cat $< > $@',
      'make-out/s2.txt: make-out/s1.txt ; cat $< > $@',
      'make-out/s1.txt: $(UPLOADS) ; mkdir -p make-out && echo s1 > $@',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'Snakefile'),
    [
      'UPLOADS = glob_wildcards("uploads/{user}/{session}.json")',
      'rule all:\n    input: "snake-out/s4.txt"',
      'rule s1:\n    input: expand("uploads/{user}/{session}.json", zip, user=UPLOADS.user, session=UPLOADS.session)\n    output: "snake-out/s1.txt"\n    shell: "echo s1 > {output}"',
      ...[2, 3, 4].map(
        (k) =>
          `rule s${k}:\n    input: "snake-out/s${k - 1}.txt"\n    output: "snake-out/s${k}.txt"\n    shell: "cat {input} > {output}"`,
      ),
      '',
    ].join('\n'),
  );
  return dir;
}

interface Row {
  n: number;
  tool: string;
  noop: Timing;
  changed: Timing;
}

function measure(n: number): Row[] {
  const dir = generate(n);
  run(dir, 'node', [pipeBin, 'build']);
  run(dir, 'make', ['-r']);
  run(dir, 'snakemake', ['-c1', '--quiet']);
  const tools: {
    tool: string;
    cmd: string;
    args: string[];
    noopCodes: number[];
    changedCodes: number[];
  }[] = [
    {
      tool: 'pipe status',
      cmd: 'node',
      args: [pipeBin, 'status'],
      noopCodes: [0],
      changedCodes: [0],
    },
    { tool: 'make -r -q', cmd: 'make', args: ['-r', '-q'], noopCodes: [0], changedCodes: [1] },
    {
      tool: 'snakemake -n',
      cmd: 'snakemake',
      args: ['-n', '-c1', '--quiet'],
      noopCodes: [0],
      changedCodes: [0],
    },
  ];
  const noop = tools.map((t) => timed(dir, t.cmd, t.args, t.noopCodes));
  // One upload's content changes (and, as any edit does, its mtime).
  writeFileSync(
    join(dir, 'uploads', 'user00000', 'session000.json'),
    '{"user":"user00000","session":0,"keystrokes":[]}\n',
  );
  const changed = tools.map((t) => timed(dir, t.cmd, t.args, t.changedCodes));
  return tools.map((t, i) => ({ n, tool: t.tool, noop: noop[i]!, changed: changed[i]! }));
}

const rows = NS.flatMap((n) => {
  process.stderr.write(`measuring N = ${n}...\n`);
  return measure(n);
});
const fmt = (ms: number): string => (ms / 1000).toFixed(3);
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
const os = await import('node:os');
const lines = [
  `# pipe status vs make -r -q vs snakemake -n`,
  '',
  `N small files in uploads/ feed a 4-stage chain. Median of ${RUNS} runs after one warm-up, in seconds: ` +
    'wall-clock time, and CPU time (user + sys from GNU time), which a shared, loaded machine distorts least.',
  `Generated by \`node --import tsx bench/status-vs-make.ts\` on ${new Date().toISOString().slice(0, 10)}, ` +
    `${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end (other jobs were running).`,
  '',
  '| N | tool | no-op wall | no-op CPU | changed wall | changed CPU | no-op wall vs make / snakemake | changed wall vs make / snakemake |',
  '|---:|---|---:|---:|---:|---:|---:|---:|',
];
for (const n of NS) {
  const of = (tool: string): Row => rows.find((r) => r.n === n && r.tool === tool)!;
  const make = of('make -r -q');
  const snake = of('snakemake -n');
  for (const r of rows.filter((x) => x.n === n)) {
    lines.push(
      `| ${n.toLocaleString('en')} | ${r.tool} | ${fmt(r.noop.wall)} | ${fmt(r.noop.cpu)} | ${fmt(r.changed.wall)} | ${fmt(r.changed.cpu)} | ` +
        `${ratio(r.noop.wall, make.noop.wall)} / ${ratio(r.noop.wall, snake.noop.wall)} | ${ratio(r.changed.wall, make.changed.wall)} / ${ratio(r.changed.wall, snake.changed.wall)} |`,
    );
  }
}
writeFileSync(resultPath('status.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
