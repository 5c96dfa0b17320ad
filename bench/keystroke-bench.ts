// Measures: the keystroke pipeline end to end (`pipe build features`: download -> clean ->
// keypairs -> features, real stages, real DuckDB) on generated uploads in both upload formats.
// Peer: a straightforward pandas version of clean + keypairs + features (bench/pandas_pipeline.py)
// on the same files; both outputs must agree row by row.
//
//   sets/k<N>/{webapp,aalto}  ──hard links──▶  ws-<format>-<N>/samples/<format>   (UPLOADS_URL=file://samples)
//        │                                          └─ pipe build features ─▶ data/{raw,clean,keypairs,features}
//        └─ $PYTHON bench/pandas_pipeline.py ─▶ pandas-<format>-<N>/{keypairs,sequences}.csv
//   then: both outputs joined row by row in DuckDB (bench/keystrokes/compare.ts), and a no-op rebuild.
//
// Per size: wall time end to end and per stage (the runner's --log-format json events), keystrokes
// per second, peak RSS of the whole process tree (sampled from /proc), pandas' time and peak RSS,
// the ratio, and the no-op `pipe build features` time (median of --noop-runs runs).
// pandas runs at --pandas-keystrokes (default 1M) and at --keystrokes too unless its time, projected
// linearly from the smaller size, exceeds --pandas-limit-min minutes; then the table says so.
//
// Run:  npm run bench:keystrokes [-- --keystrokes N]   (default 10M, about 25 minutes in all)
//   or: npx tsc -p tsconfig.json && npx tsx bench/keystroke-bench.ts [--keystrokes N]
//   smoke: BENCH_RESULTS=bench/work/smoke npm run bench:keystrokes -- --keystrokes 20000 \
//            --pandas-keystrokes 20000 --noop-runs 1
// Needs a Python with pandas: PYTHON (default /usr/bin/python3, Debian's, with
// `apt-get install python3-pandas`). Generated sets and workspaces live under BENCH_WORK; writes
// keystrokes.md and keystrokes.json under BENCH_RESULTS (bench/paths.ts).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { compareOutputs, type Comparison } from './keystrokes/compare.js';
import { ensureSet, type GeneratedSet } from './keystrokes/generate-set.js';
import { measure } from './keystrokes/measure.js';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';
import { benchWork as work, repo, resultPath } from './paths.js';
import {
  renderMarkdown,
  type Failure,
  type FormatRun,
  type PipeRun,
  type PandasRun,
} from './keystrokes/report.js';

const python = process.env.PYTHON ?? '/usr/bin/python3';
const pipeBin = join(repo, 'bin/pipe.js');
const STAGES = ['download', 'clean', 'keypairs', 'features'] as const;
const FORMATS = ['webapp', 'aalto'] as const;
type Format = (typeof FORMATS)[number];

const { values } = parseArgs({
  options: {
    keystrokes: { type: 'string', default: '10000000' },
    'pandas-keystrokes': { type: 'string', default: '1000000' },
    'pandas-limit-min': { type: 'string', default: '15' },
    formats: { type: 'string', default: FORMATS.join(',') },
    'noop-runs': { type: 'string', default: '5' },
    // A build slower than this is stopped and reported as too slow (the session has a deadline).
    'timeout-min': { type: 'string', default: '30' },
    seed: { type: 'string', default: '2018' },
    // A proposed stage fix (a unified diff against the repo, e.g. bench/proposed/*.patch), applied
    // to the workspace's COPY of stages/ only; the results name every patch applied. Repeatable.
    apply: { type: 'string', multiple: true, default: [] },
    // Re-render keystrokes.md from keystrokes.json (after a change to the report's layout).
    'render-only': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/keystroke-bench.ts [--keystrokes N] [--pandas-keystrokes N] [--pandas-limit-min MIN] [--formats webapp,aalto] [--noop-runs N] [--seed N] [--timeout-min MIN] [--apply PATCH]... [--render-only]\n',
  );
  process.exit(0);
}
if (values['render-only']) {
  const saved = JSON.parse(readFileSync(resultPath('keystrokes.json'), 'utf8')) as {
    meta: Record<string, unknown>;
    runs: FormatRun[];
    failures: Failure[];
  };
  writeFileSync(
    resultPath('keystrokes.md'),
    renderMarkdown(saved.meta, saved.runs, saved.failures),
  );
  process.exit(0);
}
const big = Number(values.keystrokes);
const small = Math.min(big, Number(values['pandas-keystrokes']));
const limitSeconds = Number(values['pandas-limit-min']) * 60;
const formats = values.formats.split(',') as Format[];
const params = parseYaml(readFileSync(join(repo, 'params.yaml'), 'utf8')) as {
  clean: { max_hold_ms: number; min_keystrokes_per_session: number };
  features: { sequence_length: number; min_sessions_per_user: number };
};
const env = { ...process.env, CI: 'true' };
const log = (line: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** A workspace with the repo's pipeline, params, config and stages, and the set's uploads as samples. */
function prepareWorkspace(set: string, format: Format, size: number): string {
  const ws = join(work, `ws-${format}-${size}`);
  prepareBenchWorkspace(repo, ws, join(set, format), format);
  // A proposed patch changes the workspace's copy of stages/ only.
  for (const patch of values.apply) {
    const applied = spawnSync('patch', ['-p1', '--forward', '-d', ws, '-i', join(repo, patch)], {
      encoding: 'utf8',
    });
    if (applied.status !== 0)
      throw new Error(
        `patch ${patch} does not apply to the workspace copy: ${applied.stdout}${applied.stderr}`,
      );
  }
  return ws;
}

const stageOf = (cmdline: string) => STAGES.find((s) => cmdline.includes(`stages/${s}.ts`));

async function runPipe(ws: string, keystrokes: number): Promise<PipeRun> {
  const timeoutMs = Number(values['timeout-min']) * 60_000;
  const m = await measure(
    ws,
    process.execPath,
    [pipeBin, 'build', 'features', '--log-format', 'json'],
    env,
    stageOf,
    timeoutMs,
  );
  const late =
    m.seconds * 1000 >= timeoutMs
      ? ` (stopped after the ${values['timeout-min']}-minute limit)`
      : '';
  if (m.code !== 0)
    throw new Error(
      `pipe build features failed (${m.code})${late} after ${m.seconds.toFixed(0)} s, peak tree RSS ${(m.peakTreeRss / 2 ** 20).toFixed(0)} MiB (by stage: ${JSON.stringify(Object.fromEntries(Object.entries(m.peakBySubtree).map(([k, v]) => [k, Math.round(v / 2 ** 20)])))} MiB) in ${ws}:\n${m.stdout.slice(-3000)}\n${m.stderr.slice(-3000)}`,
    );
  const events = m.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; stage?: string; durationMs?: number });
  const stageSeconds = Object.fromEntries(
    events.filter((e) => e.type === 'stage-done').map((e) => [e.stage!, e.durationMs! / 1000]),
  );
  const noop: number[] = [];
  for (let i = 0; i < Number(values['noop-runs']); i++) {
    const again = await measure(
      ws,
      process.execPath,
      [pipeBin, 'build', 'features', '--log-format', 'json'],
      env,
    );
    const summary = again.stdout
      .split('\n')
      .filter((l) => l.includes('"summary"'))
      .map((l) => JSON.parse(l) as { ran: number })[0];
    if (again.code !== 0 || summary?.ran !== 0)
      throw new Error(`no-op rebuild ran stages or failed in ${ws}:\n${again.stdout.slice(-2000)}`);
    noop.push(again.seconds);
  }
  return {
    seconds: m.seconds,
    stageSeconds,
    keystrokesPerSecond: keystrokes / m.seconds,
    peakTreeRss: m.peakTreeRss,
    peakByStage: m.peakBySubtree,
    noopSeconds: noop,
  };
}

async function runPandas(
  ws: string,
  format: Format,
  size: number,
): Promise<{ run: PandasRun; out: string }> {
  const out = join(work, `pandas-${format}-${size}`);
  rmSync(out, { recursive: true, force: true });
  const m = await measure(
    repo,
    python,
    [
      join(repo, 'bench/pandas_pipeline.py'),
      '--uploads',
      join(ws, 'samples', format),
      '--format',
      format,
      '--out',
      out,
      '--max-hold-ms',
      String(params.clean.max_hold_ms),
      '--min-keystrokes',
      String(params.clean.min_keystrokes_per_session),
      '--m',
      String(params.features.sequence_length),
      '--min-sessions',
      String(params.features.min_sessions_per_user),
    ],
    env,
  );
  if (m.code !== 0)
    throw new Error(`pandas_pipeline.py failed (${m.code}):\n${m.stderr.slice(-3000)}`);
  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as {
    seconds: Record<string, number>;
  };
  const s = result.seconds;
  const compute = (s.clean ?? 0) + (s.keypairs ?? 0) + (s.features ?? 0);
  return {
    run: {
      seconds: m.seconds,
      computeSeconds: compute,
      stepSeconds: s,
      peakTreeRss: m.peakTreeRss,
    },
    out,
  };
}

const runs: FormatRun[] = [];
const failures: Failure[] = [];
const sets: GeneratedSet[] = [];
for (const size of [...new Set([small, big])].sort((a, b) => a - b)) {
  log(`generating ${size.toLocaleString('en-US')} keystrokes (both formats) ...`);
  const setDir = join(work, 'sets', `k${size}`);
  const set = ensureSet(setDir, size, Number(values.seed));
  sets.push(set);
  for (const format of formats) {
    const ws = prepareWorkspace(setDir, format, size);
    log(`${format} ${size}: pipe build features ...`);
    let pipe: PipeRun;
    try {
      pipe = await runPipe(ws, set.keystrokes);
    } catch (error) {
      // A stage that fails at this size is a result too: record why, keep going.
      log(`${format} ${size}: FAILED ${(error as Error).message}`);
      failures.push({
        format,
        keystrokes: set.keystrokes,
        message: (error as Error).message.slice(-4000),
      });
      writeResults();
      continue;
    }
    log(
      `${format} ${size}: pipe ${pipe.seconds.toFixed(1)} s, peak ${(pipe.peakTreeRss / 2 ** 20).toFixed(0)} MiB, no-op ${pipe.noopSeconds.join(', ')}`,
    );
    const earlier = runs.find((r) => r.format === format && r.pandas !== undefined);
    const projected =
      earlier?.pandas === undefined
        ? undefined
        : (earlier.pandas.seconds * set.keystrokes) / earlier.keystrokes;
    let pandas: PandasRun | undefined;
    let comparison: Comparison | undefined;
    if (projected === undefined || projected <= limitSeconds) {
      log(`${format} ${size}: pandas ...`);
      const p = await runPandas(ws, format, size);
      pandas = p.run;
      log(`${format} ${size}: pandas ${pandas.seconds.toFixed(1)} s; comparing outputs ...`);
      comparison = await compareOutputs(ws, p.out);
      log(
        `${format} ${size}: same numbers: ${comparison.ok ? 'yes' : comparison.problems.join('; ')}`,
      );
    } else {
      log(
        `${format} ${size}: pandas skipped, projected ${(projected / 60).toFixed(1)} min > ${values['pandas-limit-min']} min`,
      );
    }
    runs.push({
      format,
      keystrokes: set.keystrokes,
      sessions: set.sessions,
      files: format === 'webapp' ? set.webappFiles : set.aaltoFiles,
      pipe,
      pandas,
      comparison,
      pandasProjectedSeconds: pandas === undefined ? projected : undefined,
    });
    writeResults();
  }
}

/** DUCKDB_* as config/.env.base sets them (the workspaces copy config/ and drop .env.local). */
function duckdbSettingsOfRepo(): string {
  const base = readFileSync(join(repo, 'config/.env.base'), 'utf8');
  const lines = base
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('DUCKDB_'));
  return `${lines.join(', ')} (config/.env.base)`;
}

/** Written after every run, so a long run that dies later keeps what it measured. */
function writeResults(): void {
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cores: availableParallelism(),
    loadAverageAtEnd: loadavg(),
    duckdb: JSON.parse(
      readFileSync(join(repo, 'node_modules/@duckdb/node-api/package.json'), 'utf8'),
    ).version as string,
    duckdbSettings: duckdbSettingsOfRepo(),
    params,
    patchesApplied: values.apply,
    command: `node --import tsx bench/keystroke-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
  };
  writeFileSync(
    resultPath('keystrokes.json'),
    `${JSON.stringify({ meta, sets, runs, failures }, null, 2)}\n`,
  );
  writeFileSync(resultPath('keystrokes.md'), renderMarkdown(meta, runs, failures));
}

log(`wrote ${resultPath('keystrokes.md')} and keystrokes.json`);
if (runs.some((r) => r.comparison !== undefined && !r.comparison.ok)) process.exitCode = 1;
