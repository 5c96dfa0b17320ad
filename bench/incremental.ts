// Benchmark: what new uploads cost once the data set is built (issue 12). On a generated set:
//
//   uploads minus the held-back ones ─▶ full `pipe build features` (wall, peak RSS of the tree)
//                                        └─ `pipe push` (bytes the remote grew by)
//   + 1 held-back upload   ─▶ `pipe build features` (incremental) ─▶ push
//   + --batch more uploads ─▶ `pipe build features` (incremental) ─▶ push
//   the two steps above --rounds times (default 3), each round with uploads of its own: the
//   table gives each step's median round, and every round's time (a shared machine's load moves
//   one build of a few seconds by tenths)
//   then a from-scratch build of the same uploads in a second workspace, and every table of the
//   two compared as multisets of rows (test/helpers/tables.ts): the incremental path must be exact.
//
// Ratios are against the full build of the same run (a shared machine's load hits both alike).
// Run:  npm run bench:incremental -- [--format webapp|aalto] [--keystrokes 10000000] [--batch 100]
//       npm run bench:incremental -- --format aalto --participants 168000 --sessions 20 --batch 1000
// (the second is the Aalto 136M size: Aalto files only, generated once into BENCH_WORK/sets).
// Appends a row to BENCH_RESULTS/incremental.md (and .json).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { differingTables } from '../test/helpers/tables.js';
import { ensureAaltoSet, ensureSet, type GeneratedSet } from './keystrokes/generate-set.js';
import { measure, type Measured } from './keystrokes/measure.js';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';
import { benchWork, repo, resultPath } from './paths.js';

const { values } = parseArgs({
  options: {
    format: { type: 'string', default: 'webapp' },
    keystrokes: { type: 'string', default: '10000000' },
    participants: { type: 'string' },
    sessions: { type: 'string', default: '20' },
    batch: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    seed: { type: 'string', default: '2018' },
    'no-verify': { type: 'boolean', default: false },
    // At the 136M size the pushes copy gigabytes and the report rescans everything: skip them.
    'no-push': { type: 'boolean', default: false },
  },
});
const format = values.format as 'webapp' | 'aalto';
const batch = Number(values.batch);
const rounds = Number(values.rounds);
const seed = Number(values.seed);
const env = { ...process.env, CI: 'true' };
const pipeBin = join(repo, 'bin/pipe.js');

const set: GeneratedSet =
  values.participants === undefined
    ? ensureSet(join(benchWork, `sets/k${values.keystrokes}`), Number(values.keystrokes), seed)
    : ensureAaltoSet(
        join(benchWork, `sets/aalto-p${values.participants}`),
        Number(values.participants),
        Number(values.sessions),
        seed,
      );
const setDir =
  values.participants === undefined
    ? join(benchWork, `sets/k${values.keystrokes}`)
    : join(benchWork, `sets/aalto-p${values.participants}`);
const label = `${format}-${set.keystrokes}`;
const ws = join(benchWork, `incr-${label}`);
const held = join(benchWork, `incr-${label}-held`);
const remote = join(benchWork, `incr-${label}-remote`);

function pipe(cwd: string, ...args: string[]): Promise<Measured> {
  return measure(cwd, 'node', [pipeBin, ...args], env);
}

/** One build's stages as `--log-format json` reported them: wall ms and whether incremental. */
interface StageTime {
  readonly stage: string;
  readonly ms: number;
  readonly incremental: boolean;
}

function build(cwd: string): Promise<Measured> {
  return pipe(cwd, 'build', 'features', '--log-format', 'json');
}

function stageTimes(m: Measured): StageTime[] {
  const incremental = new Set<string>();
  const times: StageTime[] = [];
  for (const line of m.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as {
      type?: string;
      stage?: string;
      incremental?: boolean;
      durationMs?: number;
    };
    if (e.type === 'stage-start' && e.incremental === true) incremental.add(e.stage!);
    if (e.type === 'stage-done')
      times.push({ stage: e.stage!, ms: e.durationMs!, incremental: incremental.has(e.stage!) });
  }
  return times;
}

/** `download 0.4 s, clean 1.1 s incr., ...`: where an incremental build's time went. */
function describeStages(times: readonly StageTime[]): string {
  return times
    .map((t) => `${t.stage} ${(t.ms / 1000).toFixed(2)} s${t.incremental ? ' incr.' : ''}`)
    .join(', ');
}

function must(m: Measured, what: string): Measured {
  if (m.code !== 0) throw new Error(`${what} exited ${m.code}:\n${m.stdout}\n${m.stderr}`);
  return m;
}

/**
 * Publishes the built stages (download to features; `push` leaves the stale report out and says
 * so) and returns the bytes the remote grew by.
 */
async function pushed(root: string, notes: string): Promise<number> {
  if (values['no-push']) return Number.NaN;
  const before = remoteBytes();
  must(await pipe(root, 'push', '--notes', notes), `push (${notes})`);
  return remoteBytes() - before;
}

function remoteBytes(): number {
  const du = spawnSync('du', ['-sb', remote], { encoding: 'utf8' });
  return Number(du.stdout.split('\t')[0] ?? 0);
}

function workspace(root: string): void {
  prepareBenchWorkspace(repo, root, join(setDir, format), format);
  writeFileSync(
    join(root, 'config/.env.local'),
    `UPLOADS_URL=file://samples\nPIPE_REMOTE=file://${remote}\n`,
  );
}

// The held-back uploads: the last rounds x (1 + batch) by name (names are random ids: an
// arbitrary sample).
workspace(ws);
spawnSync('rm', ['-rf', held, remote]);
mkdirSync(held);
mkdirSync(remote);
const uploads = join(ws, 'samples', format);
const names = readdirSync(uploads).sort();
const later = names.slice(names.length - rounds * (1 + batch));
for (const name of later) renameSync(join(uploads, name), join(held, name));
const arrive = (few: readonly string[]) => {
  for (const name of few) renameSync(join(held, name), join(uploads, name));
};

const load = () => loadavg()[0]!.toFixed(1);
const loads: string[] = [load()];
const full = must(await build(ws), 'full build');
loads.push(load());
const firstPush = await pushed(ws, 'bench: first');

interface Round {
  readonly one: Measured;
  readonly onePush: number;
  readonly many: Measured;
  readonly manyPush: number;
}
const done: Round[] = [];
for (let r = 0; r < rounds; r++) {
  const mine = later.slice(r * (1 + batch), (r + 1) * (1 + batch));
  arrive(mine.slice(0, 1));
  const one = must(await build(ws), `+1 build (round ${r + 1})`);
  const onePush = await pushed(ws, `bench: +1 (round ${r + 1})`);
  arrive(mine.slice(1));
  const many = must(await build(ws), `+${batch} build (round ${r + 1})`);
  const manyPush = await pushed(ws, `bench: +${batch} (round ${r + 1})`);
  done.push({ one, onePush, many, manyPush });
}
loads.push(load());
/** The round whose `of` is the median (the lower middle for an even count). */
const medianRound = (of: (r: Round) => number): Round =>
  [...done].sort((a, b) => of(a) - of(b))[Math.floor((done.length - 1) / 2)]!;
const { one, onePush } = medianRound((r) => r.one.seconds);
const { many, manyPush } = medianRound((r) => r.many.seconds);
const everyRound = (of: (r: Round) => Measured) =>
  done.length === 1 ? '' : `; rounds ${done.map((r) => of(r).seconds.toFixed(2)).join(', ')} s`;

let verified = 'not checked';
let scratch: Measured | undefined;
if (!values['no-verify']) {
  const fresh = join(benchWork, `incr-${label}-scratch`);
  workspace(fresh);
  writeFileSync(join(fresh, 'config/.env.local'), 'UPLOADS_URL=file://samples\n');
  scratch = must(await pipe(fresh, 'build', 'features'), 'from-scratch build');
  const differences = await differingTables(ws, fresh);
  verified =
    differences.length === 0
      ? 'yes: every table equal as multisets'
      : `NO: ${differences.map((d) => d.table).join(', ')}`;
  spawnSync('rm', ['-rf', fresh]);
}

const incrementalOf = (m: Measured) =>
  stageTimes(m).some((t) => t.stage === 'clean' && t.incremental) ? '' : ' (NOT incremental)';
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
const mib = (b: number) => (Number.isNaN(b) ? 'not pushed' : `${(b / 2 ** 20).toFixed(1)} MiB`);
const row = {
  date: new Date().toISOString().slice(0, 16),
  format,
  keystrokes: set.keystrokes,
  uploads: names.length,
  fullSeconds: full.seconds,
  fullPeakRss: full.peakTreeRss,
  oneSeconds: one.seconds,
  oneStages: stageTimes(one),
  manySeconds: many.seconds,
  manyStages: stageTimes(many),
  oneRounds: done.map((r) => r.one.seconds),
  manyRounds: done.map((r) => r.many.seconds),
  batch,
  firstPush,
  onePush,
  manyPush,
  scratchSeconds: scratch?.seconds,
  verified,
  load: loads.join(' → '),
  cores: availableParallelism(),
};
const md = `| ${row.date} | ${format} | ${set.keystrokes.toLocaleString('en')} | ${names.length.toLocaleString('en')} | ${full.seconds.toFixed(1)} s, ${mib(full.peakTreeRss)} | ${one.seconds.toFixed(2)} s (${pct(one.seconds, full.seconds)}${everyRound((r) => r.one)})${incrementalOf(one)}: ${describeStages(stageTimes(one))} | +${batch}: ${many.seconds.toFixed(2)} s (${pct(many.seconds, full.seconds)}${everyRound((r) => r.many)})${incrementalOf(many)} | ${mib(firstPush)} | ${mib(onePush)} (${pct(onePush, firstPush)}) | +${batch}: ${mib(manyPush)} (${pct(manyPush, firstPush)}) | ${scratch === undefined ? '-' : `${scratch.seconds.toFixed(1)} s`} | ${verified} | ${row.load} |`;

const table = resultPath('incremental.md');
if (!existsSync(table))
  writeFileSync(
    table,
    `# New uploads cost what they add (bench/incremental.ts)

A generated set minus R x (1 + N) held-back uploads is built from scratch and pushed; then, in
each of R rounds (\`--rounds\`, 3 from 2026-12-05; 1 before), 1 upload arrives (build, push), then
N more (build, push). Each cell gives the median round, then every round's time. Times are wall
seconds of \`pipe build features\` with the share of the full build in the same run; push bytes are what the file:// remote grew by,
with the share of the first push. Then a from-scratch build of the same uploads in a second
workspace, and every table compared with the incremental workspace's as multisets of rows. Peak RSS
is the process tree's, sampled every 100 ms. Load: 1-minute load average before → after. The +1
cell lists each stage's own time (\`--log-format json\` stage-done durationMs; incr. = it ran
incrementally): pipe's start and each stage's observation of its inputs come on top.

| date | format | keystrokes | uploads (initial) | full build, peak RSS | +1 upload | +N uploads | first push | push +1 | push +N | from scratch (all) | incremental = full | load |
|---|---|---:|---:|---|---|---|---:|---|---|---|---|---|
`,
  );
writeFileSync(table, `${readFileSync(table, 'utf8')}${md}\n`);
const json = resultPath('incremental.json');
const rows = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as unknown[]) : [];
writeFileSync(json, `${JSON.stringify([...rows, row], null, 2)}\n`);
process.stdout.write(`${md}\n`);
