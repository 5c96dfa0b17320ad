// Measures: how long `pipe status` takes to say "nothing changed" (no-op), "this one file changed"
// and "this one file was added", and its peak memory, on N small upload files
// (`uploads/<user>/<session>.json`, a few hundred bytes) feeding a 4-stage chain. Medians of RUNS
// runs, wall and CPU seconds and peak RSS, all tools in the same run (a shared machine is noisy;
// compare within a run).
// Peers: GNU `make -r -q` (mtime only, the floor) and `snakemake -n` (also mtime-based). The
// tools' runs are interleaved (one of each per round).
//
//   uploads/** ──▶ s1 ──▶ s2 ──▶ s3 ──▶ s4        (pipe: out/, make: make-out/, snakemake: snake-out/)
//
// Run:  npm run bench:status [-- N...]   (default N: 1000 10000 100000 1000000; smoke: -- 200)
//   or: npx tsc -p tsconfig.json && npx tsx bench/status-vs-make.ts [N...]
// snakemake is skipped above SNAKEMAKE_MAX inputs (default 100000: at 1,000,000 its dry run
// takes minutes, and its first build longer). BENCH_REUSE=1 keeps a generated tree of the same N
// (its changed file restored, the added one removed) instead of writing N files again.
// BENCH_RUNS (default 5): runs per median. BENCH_BASE=<another checkout, built> also times that
// checkout's `pipe status` (row "pipe status (base)"), e.g. main's, on the same tree in the same
// run: a shared machine's load changes between runs, so compare versions within one.
// Needs make, snakemake (apt-get install snakemake) and GNU time (/usr/bin/time) on the machine.
// Writes status.md under BENCH_RESULTS (bench/paths.ts); work trees under BENCH_WORK.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { repo, resultPath, workPath } from './paths.js';

const pipeBin = join(repo, 'bin', 'pipe.js');
const sizes = process.argv.slice(2).map(Number);
const NS = sizes.length > 0 ? sizes : [1_000, 10_000, 100_000, 1_000_000];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FILES_PER_USER = 100;
const SNAKEMAKE_MAX = Number(process.env.SNAKEMAKE_MAX ?? 100_000);
const REUSE = process.env.BENCH_REUSE === '1';
const BASE = process.env.BENCH_BASE;

/**
 * Wall time and CPU time (user + sys, from GNU time) in ms, peak RSS in MB. CPU time is what a
 * shared, loaded machine distorts least: wall time also counts waiting for a core. Peak RSS is
 * GNU time's maximum resident set of the process (pipe's worker threads are in it).
 */
interface Timing {
  wall: number;
  cpu: number;
  rss: number;
}

function run(cwd: string, cmd: string, args: string[], okCodes = [0]): Timing {
  const t = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '__cpu %U %S %M', cmd, ...args], {
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
  const m = /__cpu ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  return {
    wall,
    cpu: m === null ? NaN : (Number(m[1]) + Number(m[2])) * 1000,
    rss: m === null ? NaN : Number(m[3]) / 1024,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Each tool's median of RUNS runs after one warm-up each (page cache, and pipe's state cache
 * settles). The runs are interleaved, one of each tool per round: a shared machine's load drifts
 * over a minute, and runs back to back would hand one tool a quiet stretch and the next a busy one.
 */
function timedTogether(
  cwd: string,
  tools: readonly { cmd: string; args: string[]; codes: number[] }[],
): Timing[] {
  for (const t of tools) run(cwd, t.cmd, t.args, t.codes);
  const runs: Timing[][] = tools.map(() => []);
  for (let round = 0; round < RUNS; round++)
    tools.forEach((t, i) => {
      runs[i]!.push(run(cwd, t.cmd, t.args, t.codes));
    });
  return runs.map((rs) => ({
    wall: median(rs.map((r) => r.wall)),
    cpu: median(rs.map((r) => r.cpu)),
    rss: median(rs.map((r) => r.rss)),
  }));
}

const STAGE = (
  prev: string | undefined,
  n: number,
): string => `import { writeFileSync, readFileSync } from 'node:fs';
const outs = JSON.parse(process.env.PIPE_OUTS);
writeFileSync(outs['out/s${n}.txt'], ${prev === undefined ? "'s1\\n'" : `readFileSync('${prev}', 'utf8') + 's${n}\\n'`});
`;

/** An hour ago: outside pipe's racy window, and older than every tool's outputs. */
const OLD = Date.now() / 1000 - 3600;
/**
 * The mtime uploads are (re)written with: OLD, or in a reused tree its uploads' own, since "an
 * hour ago" is by then newer than the outputs built with the tree (make would call them stale).
 */
let uploadTime = OLD;

function userOf(i: number): string {
  return `user${String(Math.floor(i / FILES_PER_USER)).padStart(5, '0')}`;
}

function uploadPath(dir: string, i: number): string {
  return join(
    dir,
    'uploads',
    userOf(i),
    `session${String(i % FILES_PER_USER).padStart(3, '0')}.json`,
  );
}

function writeUpload(dir: string, i: number): void {
  const keys = Array.from(
    { length: 6 },
    (_, k) =>
      `{"key":${65 + ((i + k) % 26)},"down":${i * 10 + k * 97},"up":${i * 10 + k * 97 + 80}}`,
  );
  const file = uploadPath(dir, i);
  writeFileSync(file, `{"user":"${userOf(i)}","session":${i},"keystrokes":[${keys.join(',')}]}\n`);
  utimesSync(file, uploadTime, uploadTime);
}

/** The file the "added" case adds: a new session of the first user. */
const addedPath = (dir: string): string => join(dir, 'uploads', 'user00000', 'session-new.json');

function generate(n: number, snake: boolean): string {
  const dir = workPath(`status-${n}`);
  const ready = join(dir, '.bench-ready');
  if (REUSE && existsSync(ready)) {
    uploadTime = statSync(uploadPath(dir, 1)).mtimeMs / 1000;
    writeUpload(dir, 0);
    rmSync(addedPath(dir), { force: true });
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
  for (let i = 0; i < n; i++) {
    if (i % FILES_PER_USER === 0) mkdirSync(join(dir, 'uploads', userOf(i)), { recursive: true });
    writeUpload(dir, i);
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
  for (let k = 1; k <= 4; k++) utimesSync(join(dir, 'stages', `s${k}.mjs`), OLD, OLD);
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
  run(dir, 'node', [pipeBin, 'build']);
  run(dir, 'make', ['-r']);
  if (snake) run(dir, 'snakemake', ['-c1', '--quiet']);
  writeFileSync(ready, '');
  return dir;
}

const CASES = ['no-op', 'changed', 'added'] as const;
type Case = (typeof CASES)[number];

interface Row {
  n: number;
  tool: string;
  /** 1-minute load average when this N's measuring started and ended (a shared machine). */
  load: [number, number];
  /** Undefined: not measured at this N (snakemake above SNAKEMAKE_MAX). */
  at?: Record<Case, Timing>;
}

interface Tool {
  tool: string;
  cmd: string;
  args: string[];
  /** Exit codes meaning "answered": make -q exits 1 when something is out of date. */
  fresh: number[];
  stale: number[];
}

function measure(n: number): Row[] {
  const snake = n <= SNAKEMAKE_MAX;
  const dir = generate(n, snake);
  const loadAtStart = loadavg()[0]!;
  const tools: Tool[] = [
    { tool: 'pipe status', cmd: 'node', args: [pipeBin, 'status'], fresh: [0], stale: [0] },
    ...(BASE === undefined
      ? []
      : [
          {
            tool: 'pipe status (base)',
            cmd: 'node',
            args: [join(BASE, 'bin', 'pipe.js'), 'status'],
            fresh: [0],
            stale: [0],
          },
        ]),
    { tool: 'make -r -q', cmd: 'make', args: ['-r', '-q'], fresh: [0], stale: [1] },
    {
      tool: 'snakemake -n',
      cmd: 'snakemake',
      args: ['-n', '-c1', '--quiet'],
      fresh: [0],
      stale: [0],
    },
  ];
  const measured = tools.filter((t) => snake || t.tool !== 'snakemake -n');
  const at = new Map<string, Record<Case, Timing>>(
    measured.map((t) => [t.tool, {} as Record<Case, Timing>]),
  );
  const each = (c: Case, codes: (t: Tool) => number[]): void => {
    const timings = timedTogether(
      dir,
      measured.map((t) => ({ cmd: t.cmd, args: t.args, codes: codes(t) })),
    );
    measured.forEach((t, i) => {
      at.get(t.tool)![c] = timings[i]!;
    });
  };
  each('no-op', (t) => t.fresh);
  // One upload's content changes (and, as any edit does, its mtime).
  writeFileSync(uploadPath(dir, 0), '{"user":"user00000","session":0,"keystrokes":[]}\n');
  each('changed', (t) => t.stale);
  // Put back as built (content and mtime); then one new upload arrives.
  writeUpload(dir, 0);
  writeFileSync(addedPath(dir), '{"user":"user00000","session":-1,"keystrokes":[]}\n');
  each('added', (t) => t.stale);
  writeUpload(dir, 0);
  rmSync(addedPath(dir));
  const load: [number, number] = [loadAtStart, loadavg()[0]!];
  return tools.map((t) => ({ n, tool: t.tool, load, at: at.get(t.tool) }));
}

const rows = NS.flatMap((n) => {
  process.stderr.write(`measuring N = ${n}...\n`);
  return measure(n);
});
const sec = (ms: number): string => (ms / 1000).toFixed(3);
/** '–' when the peer did not run, or took 0 s (GNU time counts CPU in 10 ms steps). */
const ratio = (a: number, b: number | undefined): string =>
  b === undefined || b === 0 ? '–' : `${(a / b).toFixed(2)}x`;
const os = await import('node:os');
const lines = [
  `# pipe status vs make -r -q vs snakemake -n`,
  '',
  `N small files in uploads/ feed a 4-stage chain. Median of ${RUNS} runs after one warm-up, the tools' runs interleaved: ` +
    'wall-clock seconds; CPU seconds (user + sys from GNU time), which a shared, loaded machine ' +
    "distorts least; peak RSS in MB (GNU time; pipe's worker threads included). Cases: no-op; " +
    'one upload changed; one upload added (the changed one put back).',
  `Generated by \`npm run bench:status\` (bench/status-vs-make.ts) on ${new Date().toISOString().slice(0, 10)}, ` +
    `${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end (other jobs were running). ` +
    `snakemake is not run above ${SNAKEMAKE_MAX.toLocaleString('en')} inputs (minutes per dry run).`,
  '',
  '| N | tool | no-op wall | CPU | RSS | changed wall | CPU | RSS | added wall | CPU | RSS |',
  '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const r of rows) {
  const cells = CASES.flatMap((c) =>
    r.at === undefined
      ? ['–', '–', '–']
      : [sec(r.at[c].wall), sec(r.at[c].cpu), r.at[c].rss.toFixed(0)],
  );
  lines.push(`| ${r.n.toLocaleString('en')} | ${r.tool} | ${cells.join(' | ')} |`);
}
lines.push(
  '',
  'Ratios, pipe status over each peer in the same run (below 1 is faster than the peer):',
  '',
  '| N | no-op wall vs make | CPU vs make | RSS vs make | changed wall vs make / snakemake | added wall vs make / snakemake | no-op wall vs snakemake | load average (start → end) |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|',
);
for (const n of NS) {
  const of = (tool: string) => rows.find((r) => r.n === n && r.tool === tool)?.at;
  const make = of('make -r -q')!;
  const snake = of('snakemake -n');
  for (const tool of ['pipe status', 'pipe status (base)']) {
    const pipe = of(tool);
    if (pipe === undefined) continue;
    lines.push(
      `| ${n.toLocaleString('en')}${tool === 'pipe status' ? '' : ' (base)'} | ${ratio(pipe['no-op'].wall, make['no-op'].wall)} | ` +
        `${ratio(pipe['no-op'].cpu, make['no-op'].cpu)} | ${ratio(pipe['no-op'].rss, make['no-op'].rss)} | ` +
        `${ratio(pipe.changed.wall, make.changed.wall)} / ${ratio(pipe.changed.wall, snake?.changed.wall)} | ` +
        `${ratio(pipe.added.wall, make.added.wall)} / ${ratio(pipe.added.wall, snake?.added.wall)} | ` +
        `${ratio(pipe['no-op'].wall, snake?.['no-op'].wall)} | ` +
        `${rows
          .find((r) => r.n === n)!
          .load.map((l) => l.toFixed(1))
          .join(' → ')} |`,
    );
  }
}
writeFileSync(resultPath('status.md'), `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
