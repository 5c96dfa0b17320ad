// Fault injection: SIGKILL `pipe` at every rename and fsync it makes (just before the call reaches
// the kernel, and just after it returned), and at random times, during a build from scratch, an
// incremental build, a push and a pull of the samples pipeline; then concurrent pushes to one
// remote. After every kill it checks, independently of pipe's own bookkeeping:
//   - `pipe status --json` still works (the lock and caches are readable);
//   - no stage pipe calls fresh has outputs other than a clean build's (byte for byte:
//     test/helpers/trees.ts);
//   - every stage's outputs are wholly the old ones, wholly the new ones, or absent: never a mix;
//   - no process of the killed run is still running in the workspace 3 s later;
//   - the next command (`build --no-wait`, a re-push, a re-pull) succeeds and ends exactly at the
//     reference; every version the remote lists pulls completely and equals a clean build.
// Exact kill points use an LD_PRELOAD shim (test/support/kill-at.c, built with gcc; without gcc
// only the random kills run). Run:  npm run bench:faults -- [--limit 12] [--random 10] [--concurrent 10]
// (--limit: at most this many kill points per scenario and side, spread evenly over all of them).
// Writes BENCH_RESULTS/fault-injection.md.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { type Outs, outsOf, sameOuts } from '../test/helpers/trees.js';
import { repo, resultPath, scratchDir } from './paths.js';

const { values } = parseArgs({
  options: {
    limit: { type: 'string', default: '12' },
    random: { type: 'string', default: '10' },
    concurrent: { type: 'string', default: '10' },
    seed: { type: 'string', default: '13' },
  },
});
const limit = Number(values.limit);
const pipeBin = join(repo, 'bin/pipe.js');
const work = scratchDir('faults-');
const STAGES = ['download', 'clean', 'keypairs', 'features'] as const;
type Stage = (typeof STAGES)[number];
type Ref = Record<Stage, Outs>;
const declared = parse(readFileSync(join(repo, 'pipeline.yaml'), 'utf8')) as {
  stages: Record<string, { outs: string[] }>;
};
const outs = (stage: Stage): string[] => declared.stages[stage]!.outs;

let seed = Number(values.seed);
function random(): number {
  // mulberry32: a seeded generator, so a run's random kill times can be replayed.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// ── workspaces ──────────────────────────────────────────────────────────────────────────────
interface Kill {
  readonly n: number;
  readonly when: 'before' | 'after';
}
interface Ran {
  readonly code: number | null;
  readonly signal: string | null;
  readonly out: string;
}

const shim = buildShim();

function buildShim(): string | null {
  const so = join(work, 'kill-at.so');
  const cc = spawnSync(
    'gcc',
    ['-shared', '-fPIC', '-O2', '-o', so, join(repo, 'test/support/kill-at.c'), '-ldl'],
    {
      encoding: 'utf8',
    },
  );
  if (cc.status === 0) return so;
  console.error(`no exact kill points: gcc failed (${cc.error?.message ?? cc.stderr.trim()})`);
  return null;
}

function pipe(ws: string, args: readonly string[], kill?: Kill, log?: string): Ran {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  if ((kill || log) && shim) {
    Object.assign(env, { LD_PRELOAD: shim, KILL_AT_PROCESS: 'bin/pipe.js' });
    if (kill) Object.assign(env, { KILL_AT_N: String(kill.n), KILL_AT_WHEN: kill.when });
    if (log) env.KILL_AT_LOG = log;
  }
  const r = spawnSync('node', [pipeBin, ...args], { cwd: ws, env, encoding: 'utf8' });
  return { code: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}`.trim() };
}

/** Kills `pipe <args>` at a random moment within `spanMs`; resolves when it is gone. */
function pipeKilledAt(ws: string, args: readonly string[], afterMs: number): Promise<void> {
  return new Promise((done) => {
    const child = spawn('node', [pipeBin, ...args], {
      cwd: ws,
      env: { ...process.env, CI: 'true' },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    child.on('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

const held = readdirSync(join(repo, 'samples/webapp'))
  .filter((n) => n.endsWith('.json'))
  .sort()[0]!;

/** A workspace of the repo's pipeline; `before` lacks one upload (the "new upload" to come). */
function workspace(name: string, state: 'before' | 'after', remote: string): string {
  const ws = join(work, name);
  mkdirSync(ws);
  for (const item of ['pipeline.yaml', 'params.yaml', 'config', 'stages', 'samples'])
    cpSync(join(repo, item), join(ws, item), { recursive: true });
  rmSync(join(ws, 'config/.env.local'), { force: true });
  writeFileSync(join(ws, 'config/.env.local'), `PIPE_REMOTE=file://${remote}\n`);
  symlinkSync(join(repo, 'lib'), join(ws, 'lib'));
  symlinkSync(join(repo, 'node_modules'), join(ws, 'node_modules'));
  writeFileSync(join(ws, 'package.json'), '{ "private": true, "type": "module" }\n');
  if (state === 'before') rmSync(join(ws, 'samples/webapp', held));
  return ws;
}

/** A copy of a prepared folder (hard links kept, like a user's disk would have them). */
function copyOf(src: string, name: string): string {
  const dst = join(work, name);
  const cp = spawnSync('cp', ['-a', src, dst], { encoding: 'utf8' });
  if (cp.status !== 0) throw new Error(`cp -a ${src}: ${cp.stderr}`);
  return dst;
}

function perStage(of: (stage: Stage) => Outs): Ref {
  return {
    download: of('download'),
    clean: of('clean'),
    keypairs: of('keypairs'),
    features: of('features'),
  };
}

function refOf(ws: string): Ref {
  return perStage((stage) => outsOf(ws, outs(stage)));
}

function must(ran: Ran, what: string): Ran {
  if (ran.code !== 0) throw new Error(`${what} exited ${ran.code ?? ran.signal}:\n${ran.out}`);
  return ran;
}

// ── the checks ──────────────────────────────────────────────────────────────────────────────
const absent: Ref = perStage((stage) => outs(stage).map(() => null));

/**
 * What is wrong in `ws` after a kill, given the outputs a stage called fresh must have (`fresh`: one
 * of these builds) and those any stage may hold (`allowed`). Judged as left, then again once the
 * next command that takes the build mutex (`gc --dry-run`: it deletes nothing) has rolled back
 * what the kill left half-done: only then must every stage hold wholly old or wholly new outputs.
 */
function judge(ws: string, fresh: readonly Ref[], allowed: readonly Ref[]): string[] {
  const wrong = [...calledFresh(ws, fresh, 'as left')];
  wrong.push(...orphans(ws));
  const next = pipe(ws, ['gc', '--dry-run']);
  if (next.code !== 0)
    return [...wrong, `gc --dry-run exited ${next.code}: ${next.out.slice(0, 300)}`];
  wrong.push(...calledFresh(ws, fresh, 'after the next mutex holder'));
  for (const stage of STAGES)
    if (!allowed.some((ref) => sameOuts(outsOf(ws, outs(stage)), ref[stage])))
      wrong.push(`${stage}: outputs are neither the old nor the new ones (half-done)`);
  return wrong;
}

function calledFresh(ws: string, fresh: readonly Ref[], when: string): string[] {
  const status = pipe(ws, ['status', '--json']);
  if (status.code !== 0)
    return [`status (${when}) exited ${status.code}: ${status.out.slice(0, 300)}`];
  const { stages } = JSON.parse(status.out) as { stages: { name: string; state: string }[] };
  return STAGES.filter(
    (stage) =>
      stages.find((s) => s.name === stage)?.state === 'fresh' &&
      !fresh.some((ref) => sameOuts(outsOf(ws, outs(stage)), ref[stage])),
  ).map((stage) => `${stage}: called fresh (${when}), outputs differ from a clean build`);
}

/** Processes still running in the workspace (a killed pipe's stages must die with it). */
function orphans(ws: string): string[] {
  const deadline = Date.now() + 3000;
  for (;;) {
    const left: string[] = [];
    for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        if (readlinkSync(`/proc/${pid}/cwd`).startsWith(ws)) left.push(pid);
      } catch {}
    }
    if (left.length === 0) return [];
    if (Date.now() > deadline)
      return [`processes still running 3 s after the kill: ${left.join(' ')}`];
    spawnSync('sleep', ['0.2']);
  }
}

function endsAt(ws: string, ref: Ref, what: string): string[] {
  const wrong: string[] = [];
  for (const stage of STAGES)
    if (!sameOuts(outsOf(ws, outs(stage)), ref[stage]))
      wrong.push(`after ${what}: ${stage} differs`);
  const check = pipe(ws, ['status', '--check', ...STAGES]);
  if (check.code !== 0) wrong.push(`after ${what}: status --check exited ${check.code}`);
  return wrong;
}

// ── scenarios ───────────────────────────────────────────────────────────────────────────────
interface Scenario {
  readonly name: string;
  readonly args: readonly string[];
  /** A fresh folder set for one kill: the workspace the command runs in. */
  prepare(tag: string): string;
  judge(ws: string): string[];
  recover(ws: string): string[];
}

interface Row {
  scenario: string;
  points: number;
  exact: number;
  random: number;
  wrong: string[];
}

const remoteOf = (ws: string): string =>
  readFileSync(join(ws, 'config/.env.local'), 'utf8')
    .replace(/^PIPE_REMOTE=file:\/\//, '')
    .trim();

function pullsCleanly(remote: string, refs: readonly Ref[]): string[] {
  const listed = pipe(after, ['versions', '--json', '--remote', `file://${remote}`]);
  if (listed.code !== 0) return [`versions exited ${listed.code}: ${listed.out.slice(0, 300)}`];
  const wrong: string[] = [];
  const ids = (JSON.parse(listed.out) as { versions: { id: string }[] }).versions.map((v) => v.id);
  for (const id of ids) {
    const ws = workspace(`verify-${Math.random().toString(36).slice(2)}`, 'after', remote);
    const pulled = pipe(ws, ['pull', id, '--accept-untrusted']);
    if (pulled.code !== 0) wrong.push(`version ${id} does not pull: exit ${pulled.code}`);
    else if (!refs.some((ref) => STAGES.every((s) => sameOuts(outsOf(ws, outs(s)), ref[s]))))
      wrong.push(`version ${id} pulls outputs no clean build has`);
    rmSync(ws, { recursive: true, force: true });
  }
  return wrong;
}

function killPoints(s: Scenario): number {
  if (!shim) return 0;
  const ws = s.prepare('count');
  const log = join(work, `${s.name}.points`);
  must(pipe(ws, s.args, undefined, log), `${s.name} (counting)`);
  rmSync(ws, { recursive: true, force: true });
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').length : 0;
}

function spread(points: number): number[] {
  if (points <= limit) return Array.from({ length: points }, (_, i) => i + 1);
  return Array.from({ length: limit }, (_, i) => 1 + Math.round((i * (points - 1)) / (limit - 1)));
}

async function run(s: Scenario): Promise<Row> {
  const row: Row = { scenario: s.name, points: killPoints(s), exact: 0, random: 0, wrong: [] };
  const timing = s.prepare('timing');
  const t0 = Date.now();
  must(pipe(timing, s.args), `${s.name} (timing)`);
  const spanMs = Date.now() - t0;
  rmSync(timing, { recursive: true, force: true });
  const attempts: { label: string; act: (ws: string) => Promise<void> }[] = [];
  for (const n of spread(row.points))
    for (const when of ['before', 'after'] as const)
      attempts.push({
        label: `${when} #${n}`,
        act: async (ws) => void pipe(ws, s.args, { n, when }),
      });
  for (let i = 0; i < Number(values.random); i++) {
    const at = Math.round(random() * spanMs);
    attempts.push({ label: `at ${at} ms`, act: (ws) => pipeKilledAt(ws, s.args, at) });
  }
  for (const [i, attempt] of attempts.entries()) {
    const ws = s.prepare(`k${i}`);
    await attempt.act(ws);
    const wrong = [...s.judge(ws), ...s.recover(ws)];
    for (const w of wrong) row.wrong.push(`${attempt.label}: ${w}`);
    if (attempt.label.startsWith('at')) row.random++;
    else row.exact++;
    process.stderr.write(`${s.name} ${attempt.label}: ${wrong.length ? wrong.join('; ') : 'ok'}\n`);
    rmSync(ws, { recursive: true, force: true });
    const remote = join(work, `remote-k${i}`);
    rmSync(remote, { recursive: true, force: true });
  }
  return row;
}

// ── the references ──────────────────────────────────────────────────────────────────────────
// The commit measured: taken now, since a long run may outlive it.
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
  cwd: repo,
  encoding: 'utf8',
}).stdout.trim();
const load0 = loadavg()[0]!.toFixed(1);
const started = Date.now();
const baseRemote = join(work, 'remote-base');
const before = workspace('ref-before', 'before', baseRemote);
must(pipe(before, ['build', 'features']), 'reference build (before)');
const after = workspace('ref-after', 'after', baseRemote);
must(pipe(after, ['build', 'features']), 'reference build (after)');
const again = workspace('ref-again', 'after', baseRemote);
must(pipe(again, ['build', 'features']), 'second reference build');
const refBefore = refOf(before);
const refAfter = refOf(after);
for (const s of STAGES)
  if (!sameOuts(refAfter[s], refOf(again)[s]))
    throw new Error(`two clean builds differ in ${s}: byte equality cannot serve as the reference`);
must(pipe(before, ['push', '--notes', 'before', '--set-current']), 'push (before)');
const emptyRemote = join(work, 'remote-empty');
mkdirSync(emptyRemote);
const bothRemote = join(work, 'remote-both');
cpSync(baseRemote, bothRemote, { recursive: true });
must(
  pipe(after, ['push', '--notes', 'after', '--set-current', '--remote', `file://${bothRemote}`]),
  'push (after)',
);

function remoteFor(tag: string, from: string): string {
  const remote = join(work, `remote-${tag}`);
  rmSync(remote, { recursive: true, force: true });
  cpSync(from, remote, { recursive: true });
  return remote;
}

function pointRemote(ws: string, remote: string): void {
  writeFileSync(join(ws, 'config/.env.local'), `PIPE_REMOTE=file://${remote}\n`);
}

/** The next build must end exactly where an uninterrupted one would have. */
const buildAgain = (ref: Ref) => (ws: string) => {
  const built = pipe(ws, ['build', 'features', '--no-wait']);
  return built.code === 0
    ? endsAt(ws, ref, 'the next build')
    : [`next build exited ${built.code}: ${built.out.slice(-300)}`];
};

// An incremental build lays out its parts differently from a build from scratch (the new upload's
// rows go into a new part), so its reference is the uninterrupted incremental build.
const incremental = copyOf(before, 'ref-incremental');
cpSync(join(repo, 'samples/webapp', held), join(incremental, 'samples/webapp', held));
must(pipe(incremental, ['build', 'features']), 'reference incremental build');
const refIncremental = refOf(incremental);

const scenarios: Scenario[] = [
  {
    name: 'build from scratch',
    args: ['build', 'features'],
    prepare: (tag) => workspace(`ws-${tag}`, 'after', join(work, `remote-${tag}`)),
    judge: (ws) => judge(ws, [refAfter], [refAfter, absent]),
    recover: buildAgain(refAfter),
  },
  {
    name: 'incremental build (+1 upload)',
    args: ['build', 'features'],
    prepare: (tag) => {
      const ws = copyOf(before, `ws-${tag}`);
      cpSync(join(repo, 'samples/webapp', held), join(ws, 'samples/webapp', held));
      return ws;
    },
    judge: (ws) => judge(ws, [refIncremental], [refBefore, refIncremental]),
    recover: buildAgain(refIncremental),
  },
  {
    name: 'push (over a published version)',
    args: ['push', '--notes', 'after', '--set-current'],
    prepare: (tag) => {
      const ws = copyOf(after, `ws-${tag}`);
      pointRemote(ws, remoteFor(tag, baseRemote));
      return ws;
    },
    judge: (ws) => [
      ...judge(ws, [refAfter], [refAfter]),
      ...pullsCleanly(remoteOf(ws), [refBefore, refAfter]),
    ],
    recover: (ws) => {
      const pushed = pipe(ws, ['push', '--notes', 'again', '--set-current']);
      if (pushed.code !== 0) return [`re-push exited ${pushed.code}: ${pushed.out.slice(-300)}`];
      const check = workspace(
        `current-${Math.random().toString(36).slice(2)}`,
        'after',
        remoteOf(ws),
      );
      const pulled = pipe(check, ['pull', 'current', '--accept-untrusted']);
      const wrong =
        pulled.code === 0
          ? endsAt(check, refAfter, 'pull of current')
          : [`pull of current exited ${pulled.code}`];
      rmSync(check, { recursive: true, force: true });
      return wrong;
    },
  },
  {
    name: 'pull (over older outputs)',
    args: ['pull', 'current', '--accept-untrusted'],
    prepare: (tag) => {
      const ws = copyOf(before, `ws-${tag}`);
      cpSync(join(repo, 'samples/webapp', held), join(ws, 'samples/webapp', held));
      pointRemote(ws, bothRemote);
      return ws;
    },
    judge: (ws) => judge(ws, [refAfter], [refBefore, refAfter]),
    recover: (ws) => {
      const pulled = pipe(ws, ['pull', 'current', '--accept-untrusted']);
      return pulled.code === 0
        ? endsAt(ws, refAfter, 'a re-pull')
        : [`re-pull exited ${pulled.code}: ${pulled.out.slice(-300)}`];
    },
  },
];

const rows: Row[] = [];
for (const s of scenarios) rows.push(await run(s));

// Concurrent pushes: half of the workspaces hold the old outputs, half the new, all with notes (a
// new version record each) and --set-current, racing for one remote.
const racers = Number(values.concurrent);
const raceRemote = remoteFor('race', emptyRemote);
const pushers = Array.from({ length: racers }, (_, i) => {
  const ws = copyOf(i % 2 ? before : after, `race-${i}`);
  pointRemote(ws, raceRemote);
  return ws;
});
const raced = await Promise.all(
  pushers.map(
    (ws, i) =>
      new Promise<number | null>((done) => {
        const child = spawn('node', [pipeBin, 'push', '--notes', `racer ${i}`, '--set-current'], {
          cwd: ws,
          env: { ...process.env, CI: 'true' },
          stdio: 'ignore',
        });
        child.on('exit', (code) => done(code));
      }),
  ),
);
const raceWrong = raced.flatMap((code, i) => (code === 0 ? [] : [`racer ${i} exited ${code}`]));
const listed = JSON.parse(
  must(pipe(after, ['versions', '--json', '--remote', `file://${raceRemote}`]), 'versions').out,
) as {
  versions: unknown[];
  refs: Record<string, string>;
};
if (listed.versions.length !== racers)
  raceWrong.push(`${listed.versions.length} versions for ${racers} pushes`);
raceWrong.push(...pullsCleanly(raceRemote, [refBefore, refAfter]));
rows.push({
  scenario: `${racers} concurrent pushes, one remote`,
  points: 0,
  exact: 0,
  random: racers,
  wrong: raceWrong,
});

// ── the table ───────────────────────────────────────────────────────────────────────────────

const minutes = ((Date.now() - started) / 60000).toFixed(1);
const lines = [
  '# Fault injection (bench/fault-injection.ts)',
  '',
  'pipe is SIGKILLed at its renames and fsyncs (just before and just after each call, through the',
  'LD_PRELOAD shim test/support/kill-at.c; `points` is how many such calls the command makes, of which',
  '`--limit` per side are tried, spread evenly) and at random times, on the samples pipeline. After',
  "each kill: status still works, no stage called fresh has outputs other than a clean build's (byte",
  'for byte), no stage holds a mix of old and new outputs, no process is left running, and the next',
  'command ends exactly at a clean build (every version a remote lists pulls and equals one).',
  '',
  '| date | commit | scenario | kill points | exact kills | random kills | violations |',
  '|---|---|---|---:|---:|---:|---|',
  ...rows.map(
    (r) =>
      `| ${new Date().toISOString().slice(0, 16)} | ${commit} | ${r.scenario} | ${r.points} | ${r.exact} | ${r.random} | ${r.wrong.length === 0 ? 'none' : r.wrong.join('<br>')} |`,
  ),
  '',
  `Whole run: ${minutes} min, load ${load0} → ${loadavg()[0]!.toFixed(1)}.`,
  '',
];
const table = resultPath('fault-injection.md');
const previous = existsSync(table) ? readFileSync(table, 'utf8') : '';
const history = previous.split('\n').filter((l) => /^\| \d{4}-/.test(l));
lines.splice(11, 0, ...history);
writeFileSync(table, `${lines.join('\n')}`);
console.log(lines.join('\n'));
rmSync(work, { recursive: true, force: true });
const violations = rows.reduce((n, r) => n + r.wrong.length, 0);
process.exitCode = violations === 0 ? 0 : 1;
