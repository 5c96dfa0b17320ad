// Incremental equals full, for keypairs and features (docs/stage-contract.md, "Incremental
// stages"): a seeded random sequence of steps adds, replaces and deletes clean keystrokes parts
// (sessions added, dropped and moved between parts, users crossing min_sessions_per_user both
// ways). After every step each stage runs incrementally, as the runner would (previous outputs
// hard-linked into its temp out, PIPE_INCREMENTAL listing the dep files changed since its last
// run), and from scratch in a second workspace holding the same clean parts; every table is
// compared as a multiset (EXCEPT ALL both ways, row counts, columns), and summary.json and the
// metrics records must be equal. Every few steps a third workspace holds all sessions in ONE part
// (another part layout). The expected summary numbers also come from the test's own model of the
// data (plain counting in TypeScript), an independent method.
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asRunnerWould,
  compareTables,
  diffFiles,
  fileHashes,
  type KeystrokeRow,
  linkCopy,
  partId,
  seededRandom,
  tableFiles,
  writeKeystrokesPart,
} from './helpers/parts-rig.js';
import { runStage, STAGES, type StageRun, type StageSpec } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const SEED = 20_181_012;
const STEPS = 22;
const M = 5;
const MIN_SESSIONS = 3;
const ONE_PART_EVERY = 5;
const params = { 'features.sequence_length': M, 'features.min_sessions_per_user': MIN_SESSIONS };
const keypairs: StageSpec = STAGES.keypairs;
const features: StageSpec = { ...STAGES.features, params };

interface Session {
  readonly user: string;
  readonly id: string;
  readonly rows: KeystrokeRow[];
}

const random = seededRandom(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
// 'x' types in both sources, so some parts list user ids out of order (aalto sorts before webapp):
// a user is a user_id over both sources.
const USERS = ['u1', 'u2', 'u3', 'u4', 'x'];
let sessionCount = 0;

function newSession(): Session {
  const user = pick(USERS);
  const source =
    user === 'x' ? pick(['aalto', 'webapp'] as const) : user < 'u3' ? 'aalto' : 'webapp';
  const id = `s${String(++sessionCount).padStart(3, '0')}`;
  // 1 keystroke (no pairs: the session counts nowhere) to 9 (truncated at M = 5 pairs).
  const n = random() < 0.1 ? 1 : 2 + Math.floor(random() * 8);
  let press = 1_000_000 + sessionCount * 10_000;
  const rows: KeystrokeRow[] = [];
  for (let i = 0; i < n; i++) {
    // Tenths of a ms (not exact in binary), equal presses now and then (PL 0), rollover often.
    press += random() < 0.1 ? 0 : Math.round(random() * 3000) / 10;
    const hold = 1 + Math.round(random() * 2000) / 10;
    rows.push({
      source,
      platform: source === 'webapp' && random() < 0.3 ? 'mobile' : 'desktop',
      user_id: user,
      session_id: id,
      press_ms: press,
      release_ms: press + hold,
      keycode: 8 + Math.floor(random() * 248),
    });
  }
  return { user, id, rows };
}

/** The model: which sessions each clean part holds. */
const parts = new Map<number, Session[]>();
let nextPart = 0;

/** What features must report for the model's data, counted here, not by the stage. */
function expectedSummary() {
  const perUser = new Map<string, { sessions: number; padding: number }>();
  for (const sessions of parts.values())
    for (const s of sessions) {
      if (s.rows.length < 2) continue; // no pairs: features never sees it
      const u = perUser.get(s.user) ?? { sessions: 0, padding: 0 };
      u.sessions += 1;
      u.padding += Math.max(0, M - (s.rows.length - 1));
      perUser.set(s.user, u);
    }
  const kept = [...perUser.values()].filter((u) => u.sessions >= MIN_SESSIONS);
  const dropped = [...perUser.values()].filter((u) => u.sessions < MIN_SESSIONS);
  const sequences = kept.reduce((a, u) => a + u.sessions, 0);
  const padding = kept.reduce((a, u) => a + u.padding, 0);
  return {
    summary: {
      M,
      min_sessions_per_user: MIN_SESSIONS,
      users_kept: kept.length,
      users_dropped: dropped.length,
      sessions_dropped: dropped.reduce((a, u) => a + u.sessions, 0),
      sequences,
      padding_share: sequences === 0 ? 0 : padding / (sequences * M),
    },
    keptUsers: new Set([...perUser].filter(([, u]) => u.sessions >= MIN_SESSIONS).map(([k]) => k)),
  };
}

type Op = 'add' | 'replace' | 'move' | 'delete';
const ops: Record<Op, number> = { add: 0, replace: 0, move: 0, delete: 0 };

/** One random change to the model; returns the part ids whose files must be (re)written or deleted. */
function step(): { write: number[]; remove: number[]; what: string } {
  const ids = [...parts.keys()];
  const total = [...parts.values()].reduce((a, s) => a + s.length, 0);
  const nonEmpty = ids.filter((id) => parts.get(id)!.length > 0);
  // Many sessions: delete, so users fall below the threshold again.
  const op: Op =
    ids.length === 0
      ? 'add'
      : ids.length >= 2 && total > 24
        ? 'delete'
        : ids.length < 2
          ? pick(['add', 'replace'] as const)
          : pick(['add', 'replace', 'replace', 'move', 'delete'] as const);
  const effective: Op = op === 'move' && nonEmpty.length === 0 ? 'replace' : op;
  ops[effective] += 1;
  if (effective === 'delete') {
    const id = pick(ids);
    parts.delete(id);
    return { write: [], remove: [id], what: `delete ${partId(id)}` };
  }
  if (effective === 'add') {
    const id = nextPart++;
    parts.set(id, Array.from({ length: 1 + Math.floor(random() * 4) }, newSession));
    return { write: [id], remove: [], what: `add ${partId(id)}` };
  }
  if (effective === 'move') {
    // A session moves from one part to another: two parts change in one step, no row does.
    const from = pick(nonEmpty);
    const to = pick(ids.filter((id) => id !== from));
    const sessions = parts.get(from)!;
    const session = sessions.splice(Math.floor(random() * sessions.length), 1)[0]!;
    parts.get(to)!.push(session);
    return {
      write: [from, to],
      remove: [],
      what: `move ${session.id} ${partId(from)} -> ${partId(to)}`,
    };
  }
  // Replace: some sessions dropped (a replaced upload's rows vanish), some new ones added.
  const target = pick(ids);
  const kept = parts.get(target)!.filter(() => random() > 0.35);
  const added = Array.from({ length: Math.floor(random() * 3) }, newSession);
  parts.set(target, [...kept, ...added]);
  return { write: [target], remove: [], what: `replace ${partId(target)}` };
}

async function writePart(ws: Workspace, id: number, sessions: readonly Session[]): Promise<void> {
  await writeKeystrokesPart(
    ws,
    `data/clean/keystrokes/${partId(id)}.parquet`,
    sessions.flatMap((s) => s.rows),
  );
  // clean's own bookkeeping changes too; keypairs must ignore it.
  ws.write(`data/clean/parts/${partId(id)}.json`, JSON.stringify(sessions.map((s) => s.id)));
}

const inc = tempWorkspace();
const full = tempWorkspace();
const one = tempWorkspace();
afterAll(() => {
  for (const ws of [inc, full, one]) ws.remove();
});

/** Each stage's dep files as of its last successful incremental-workspace run. */
const lastSeen = new Map<string, Map<string, string>>();

/** Runs `spec` in `inc` incrementally (or from scratch the first time), checking it wrote no linked file in place. */
function runIncremental(spec: StageSpec, dep: string, out: string): StageRun {
  const now = fileHashes(inc.root, dep);
  const before = lastSeen.get(spec.stage);
  const guard = join(inc.root, '.guard');
  rmSync(guard, { recursive: true, force: true });
  const outputs = existsSync(join(inc.root, out)) ? fileHashes(inc.root, out) : new Map();
  if (before !== undefined) linkCopy(join(inc.root, out), join(guard, out));
  const run = runStage(inc.root, asRunnerWould(spec, dep, before, now));
  expect(run.status, run.stderr).toBe(0);
  if (before !== undefined) {
    // The previous outputs, reached through the guard's links, are byte for byte as they were.
    expect(fileHashes(guard, out)).toEqual(outputs);
  }
  lastSeen.set(spec.stage, now);
  return run;
}

async function expectSameTables(a: Workspace, b: Workspace, label: string): Promise<void> {
  for (const table of ['data/keypairs/keypairs', 'data/features/sequences']) {
    const diff = await compareTables(a, tableFiles(a.root, table), tableFiles(b.root, table));
    expect(diff, `${label}: ${table}`).toEqual({ ...diff, rowsB: diff.rowsA, onlyA: 0, onlyB: 0 });
    expect(diff.columnsA, `${label}: ${table} columns`).toBe(diff.columnsB);
  }
  const users = (ws: Workspace) => [join(ws.root, 'data/features/users.parquet')];
  const diff = await compareTables(a, users(a), users(b));
  expect(diff, `${label}: users.parquet`).toEqual({
    ...diff,
    rowsB: diff.rowsA,
    onlyA: 0,
    onlyB: 0,
    columnsB: diff.columnsA,
  });
  expect(a.json('data/features/summary.json'), `${label}: summary.json`).toEqual(
    b.json('data/features/summary.json'),
  );
}

describe('keypairs and features, incremental against from scratch', () => {
  it(`give the same rows, summaries and counts over ${STEPS} random steps (seed ${SEED})`, async () => {
    let previousKept = new Set<string>();
    const flips = { kept: 0, dropped: 0 };
    let partialFeatureRuns = 0;
    let addedFileRuns = 0;
    for (let n = 0; n < STEPS; n++) {
      const { write, remove, what } = step();
      for (const id of write) await writePart(inc, id, parts.get(id)!);
      for (const id of remove) {
        rmSync(join(inc.root, `data/clean/keystrokes/${partId(id)}.parquet`));
        rmSync(join(inc.root, `data/clean/parts/${partId(id)}.json`));
      }
      inc.write('data/clean/summary.json', JSON.stringify({ step: n }));
      const label = `step ${n} (${what})`;

      const changedClean = diffFiles(
        lastSeen.get('keypairs') ?? new Map(),
        fileHashes(inc.root, 'data/clean'),
      );
      const incKeypairs = runIncremental(keypairs, 'data/clean', 'data/keypairs');
      const incFeatures = runIncremental(features, 'data/keypairs', 'data/features');
      if (n > 0) {
        // The incremental path really ran, pairing exactly the changed keystrokes parts again.
        const changedParts = [...changedClean.added, ...changedClean.modified].filter((p) =>
          p.startsWith('data/clean/keystrokes/'),
        ).length;
        expect(incKeypairs.stdout, label).toContain(
          `(incremental: ${changedParts} of ${parts.size} parts paired again, ${remove.length} removed)`,
        );
        const written = /, (\d+) written,/.exec(incFeatures.stdout);
        expect(written, `${label}: ${incFeatures.stdout}`).not.toBeNull();
        if (Number(written![1]) < parts.size) partialFeatureRuns++;
        const addedTo = /, (\d+) added to,/.exec(incFeatures.stdout);
        if (Number(addedTo?.[1] ?? 0) > 0) addedFileRuns++;
      }

      rmSync(join(full.root, 'data'), { recursive: true, force: true });
      cpSync(join(inc.root, 'data/clean'), join(full.root, 'data/clean'), { recursive: true });
      const fullRuns = [runStage(full.root, keypairs), runStage(full.root, features)];
      for (const run of fullRuns) expect(run.status, run.stderr).toBe(0);
      expect(fullRuns[0]!.stdout).not.toContain('incremental');

      await expectSameTables(inc, full, label);
      expect([incKeypairs.metrics, incFeatures.metrics], `${label}: metrics`).toEqual(
        fullRuns.map((r) => r.metrics),
      );
      const { summary, keptUsers } = expectedSummary();
      expect(inc.json('data/features/summary.json'), `${label}: model`).toEqual(summary);
      flips.kept += [...keptUsers].filter((u) => !previousKept.has(u)).length;
      flips.dropped += [...previousKept].filter((u) => !keptUsers.has(u)).length;
      previousKept = keptUsers;

      if (n % ONE_PART_EVERY === ONE_PART_EVERY - 1 || n === STEPS - 1) {
        rmSync(join(one.root, 'data'), { recursive: true, force: true });
        await writePart(one, 0, [...parts.values()].flat());
        for (const spec of [keypairs, features])
          expect(runStage(one.root, spec).status, `${label}: one part`).toBe(0);
        await expectSameTables(inc, one, `${label}, against one part`);
      }
    }
    // The steps did what the test is about: users crossed the threshold both ways, and some
    // incremental features runs wrote fewer sequence parts than there are.
    expect(flips.kept).toBeGreaterThan(0);
    expect(flips.dropped).toBeGreaterThan(0);
    expect(partialFeatureRuns).toBeGreaterThan(0);
    // ... and some gave users kept since their parts were written added files, not rewrites.
    expect(addedFileRuns).toBeGreaterThan(0);
    for (const op of Object.keys(ops) as Op[]) expect(ops[op], `${op} steps`).toBeGreaterThan(1);
  }, 900_000);

  it('compares tables strictly: one part fewer is a difference', async () => {
    const files = tableFiles(inc.root, 'data/keypairs/keypairs');
    const counts = await Promise.all(
      files.map(async (f) => {
        const [row] = await inc.query<{ n: number }>(
          `SELECT count(*)::INTEGER AS n FROM read_parquet('${f}')`,
        );
        return row?.n ?? 0;
      }),
    );
    const nonEmpty = files.filter((_, i) => counts[i]! > 0);
    expect(nonEmpty.length).toBeGreaterThan(1);
    const fewer = files.filter((f) => f !== nonEmpty[0]);
    const diff = await compareTables(inc, files, fewer);
    expect(diff.onlyA).toBe(counts[files.indexOf(nonEmpty[0]!)]);
    expect(diff.onlyB).toBe(0);
  });
});
