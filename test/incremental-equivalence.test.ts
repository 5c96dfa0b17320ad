// Incremental equals full (issue 12's contract), through the real CLI: a seeded random sequence of
// uploads added, replaced and deleted in a folder outside the workspace, both formats, including
// the cases that tie files together (a web-app session uploaded twice under two names, the same
// session with other content, an Aalto participant's rows in a second file) and a web-app upload
// that reuses an Aalto participant's id and section id (a session of each source, one user).
// Users need 3 sessions, so they are kept and dropped as uploads come and go. After every step
// workspace A builds incrementally (`pipe build features`, from its previous outputs) and
// workspace B from scratch (`--force`) over the same uploads; every table must hold the same
// multiset of rows, every summary.json and record count must agree. The test also checks that A's
// stages really ran incrementally, so it cannot pass by comparing two full builds.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generate, generateUploads, toAaltoFiles } from '../samples/generate.js';
import { seededRandom } from '../samples/typing.js';
import { copyRepoPipeline, runPipeIn } from './helpers/repo-copy.js';
import { differingTables, lockMetrics, readSummary, SUMMARIES } from './helpers/tables.js';

const STEPS = 22;
const INCREMENTAL_STAGES = ['clean', 'keypairs', 'features'] as const;

/** Upload material: generated web-app sessions (faults planted) and Aalto participant files. */
function material(): { webapp: [string, Buffer][]; aalto: [string, Buffer][] } {
  const web = generate({ seed: 12, users: 6, sessionsPerUser: 4, faults: true });
  const webapp = [...web.files].map(([name, body]): [string, Buffer] => [name, Buffer.from(body)]);
  const aalto = [
    ...toAaltoFiles(generateUploads({ seed: 34, users: 5, sessionsPerUser: 3, faults: false })),
  ].map(([name, text]): [string, Buffer] => [name, Buffer.from(text)]);
  return { webapp, aalto };
}

/** One random change to the uploads folder; returns what it did, for the failure message. */
function step(
  random: () => number,
  uploads: string,
  pool: ReturnType<typeof material>,
  next: { n: number },
): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const format = random() < 0.6 ? 'webapp' : 'aalto';
  const folder = join(uploads, format);
  const present = readdirSync(folder).sort();
  const source = pool[format];
  const op = present.length < 2 ? 'add' : pick(['add', 'add', 'replace', 'delete', 'tie', 'cross']);
  const aalto = readdirSync(join(uploads, 'aalto'));
  if (op === 'cross' && aalto.length > 0) {
    // A web-app upload under an Aalto participant's ids: the first data line's participant and section.
    const line = readFileSync(join(uploads, 'aalto', pick(aalto)), 'utf8').split('\n')[1] ?? '';
    const [user, section] = line.split('\t');
    const [name, doc] = pick(pool.webapp.flatMap(([n, body]) => parsed(n, body)));
    const copy = `cross${++next.n}-${name}`;
    writeFileSync(
      join(uploads, 'webapp', copy),
      JSON.stringify({ ...doc, user_id: user, session_id: section }),
    );
    return `cross webapp/${copy}: user ${user}, section ${section}`;
  }
  if (op === 'add') {
    const unused = source.filter(([name]) => !present.includes(name));
    const [name, body] = unused.length > 0 ? pick(unused) : pick(source);
    writeFileSync(join(folder, unused.length > 0 ? name : renamed(format, name, next)), body);
    return `add ${format}/${name}`;
  }
  const target = pick(present);
  if (op === 'delete') {
    rmSync(join(folder, target));
    return `delete ${format}/${target}`;
  }
  if (op === 'replace') {
    // Another upload's bytes under this name, or this one cut short: rows come, go and change.
    const [, other] = pick(source);
    const own = readFileSync(join(folder, target));
    const body = random() < 0.5 || target.endsWith('.gz') ? other : cutShort(own, format, random);
    writeFileSync(join(folder, `.${target}.tmp`), body);
    rmSync(join(folder, target));
    writeFileSync(join(folder, target), body);
    rmSync(join(folder, `.${target}.tmp`));
    return `replace ${format}/${target}`;
  }
  // tie: the same bytes under a second name (a duplicate upload; an Aalto participant twice).
  const copy = renamed(format, target, next);
  writeFileSync(join(folder, copy), readFileSync(join(folder, target)));
  return `tie ${format}/${target} -> ${copy}`;
}

/** A web-app upload's document, when it is plain JSON (the material plants some that are not). */
function parsed(name: string, body: Buffer): [string, Record<string, unknown>][] {
  if (!name.endsWith('.json')) return [];
  try {
    return [[name, JSON.parse(body.toString('utf8')) as Record<string, unknown>]];
  } catch {
    return [];
  }
}

function renamed(format: string, name: string, next: { n: number }): string {
  next.n += 1;
  return format === 'aalto' ? `${9000 + next.n}_keystrokes.txt` : `copy${next.n}-${name}`;
}

/** Drops a random tail of lines (Aalto) or of events (web app): a replaced, shorter upload. */
function cutShort(own: Buffer, format: string, random: () => number): Buffer {
  if (format === 'aalto') {
    const lines = own.toString('utf8').split('\n');
    return Buffer.from(lines.slice(0, Math.max(2, Math.floor(lines.length * random()))).join('\n'));
  }
  try {
    const doc = JSON.parse(own.toString('utf8')) as { events?: unknown[] };
    if (Array.isArray(doc.events))
      doc.events = doc.events.slice(0, Math.floor(doc.events.length * random()));
    return Buffer.from(JSON.stringify(doc));
  } catch {
    return own.subarray(0, Math.floor(own.length / 2));
  }
}

describe('incremental builds equal from-scratch builds', () => {
  const temp = mkdtempSync(join(tmpdir(), 'pipe-incr-eq-'));
  const made: string[] = [];
  afterAll(() => {
    for (const dir of [temp, ...made]) rmSync(dir, { recursive: true, force: true });
  });

  it(`over ${STEPS} random steps of uploads added, replaced, deleted and tied, both formats`, async () => {
    const uploads = join(temp, 'uploads');
    mkdirSync(join(uploads, 'webapp'), { recursive: true });
    mkdirSync(join(uploads, 'aalto'), { recursive: true });
    mkdirSync(join(temp, 'remote'));
    const pool = material();
    const random = seededRandom(20261205);
    const next = { n: 0 };
    for (const [name, body] of [...pool.webapp.slice(0, 6), ...pool.aalto.slice(0, 2)])
      writeFileSync(join(uploads, name.endsWith('.txt') ? 'aalto' : 'webapp', name), body);
    const [a, b] = ['inc-', 'full-'].map((prefix) => {
      const root = copyRepoPipeline(prefix);
      made.push(root);
      writeFileSync(
        join(root, 'config/.env.local'),
        `UPLOADS_URL=file://${uploads}\nPIPE_REMOTE=file://${join(temp, 'remote')}\n`,
      );
      // The material's users have 3 or 4 sessions: at 15 none would be kept and sequences/ empty.
      const params = readFileSync(join(root, 'params.yaml'), 'utf8');
      writeFileSync(
        join(root, 'params.yaml'),
        params.replace('min_sessions_per_user: 15', 'min_sessions_per_user: 3'),
      );
      return root;
    }) as [string, string];
    const first = runPipeIn(a, 'build', 'features');
    expect(first.status, first.stderr).toBe(0);

    const ranIncrementally = new Map<string, number>(INCREMENTAL_STAGES.map((s) => [s, 0]));
    const kept = new Set<number>();
    let addedTo = 0;
    const history: string[] = [];
    for (let i = 0; i < STEPS; i++) {
      history.push(step(random, uploads, pool, next));
      const inc = runPipeIn(a, 'build', 'features');
      expect(inc.status, `${history.join('\n')}\n${inc.stdout}\n${inc.stderr}`).toBe(0);
      if (/ [1-9][0-9]* added to,/.test(inc.stdout)) addedTo += 1;
      for (const s of INCREMENTAL_STAGES)
        if (inc.stdout.includes(`${s}: running incrementally`))
          ranIncrementally.set(s, ranIncrementally.get(s)! + 1);
      const full = runPipeIn(b, 'build', 'features', '--force');
      expect(full.status, full.stderr).toBe(0);
      const context = `after steps:\n${history.join('\n')}`;
      expect(await differingTables(a, b), context).toEqual([]);
      for (const rel of SUMMARIES)
        expect(readSummary(a, rel), `${rel} ${context}`).toEqual(readSummary(b, rel));
      expect(lockMetrics(a, INCREMENTAL_STAGES), context).toEqual(
        lockMetrics(b, INCREMENTAL_STAGES),
      );
      kept.add((readSummary(b, 'data/features/summary.json') as { users_kept: number }).users_kept);
    }
    // Users were kept (sequences/ held rows to compare) and their number changed along the way.
    expect(Math.max(...kept)).toBeGreaterThan(0);
    expect(kept.size).toBeGreaterThan(2);
    // And at least once a user became kept with sessions in unchanged parts (features' added files).
    expect(addedTo).toBeGreaterThan(0);
    // Every step changed the uploads, so clean ran each time; most changes reach keypairs and
    // features too. Had the runner or a stage fallen back to full builds, these would be 0.
    expect(ranIncrementally.get('clean')).toBeGreaterThanOrEqual(STEPS - 2);
    expect(ranIncrementally.get('keypairs')).toBeGreaterThanOrEqual(STEPS / 2);
    expect(ranIncrementally.get('features')).toBeGreaterThanOrEqual(STEPS / 2);
  }, 900_000);
});
