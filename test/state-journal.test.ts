// `.pipe/state` amended by `.pipe/state-journal` (lib/observe/state-cache.ts, THE JOURNAL): a
// save of a few changes writes the journal and leaves the big file as it is; a later process
// answers from both; a journal past its size is merged in. Checked against a model kept here by the
// rules the file states (a kept stamp answers its hash in later processes; a racy one only in the
// process that hashed it, and it removes what was kept for the path), over random sequences of
// processes, and the journal of a replaced `.pipe/state` is ignored.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { JOURNAL_MAX_BYTES, StateCache } from '../lib/observe/state-cache.js';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { seededRandom } from './helpers/seeded-random.js';

interface Kept {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
  readonly sha: Sha256Hex;
}

const HOUR = 3_600_000;

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-journal-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, '.pipe'));
  // `up` is a big folder: its lines are kept out of state-small.
  const h = (c: string) => c.repeat(64);
  writeFileSync(
    join(dir, '.pipe/folders'),
    `pipe-folders 4\nup\t${h('d')}\t${h('e')}\t6\t2\t${h('f')}:2:6:200\n`,
  );
  return dir;
}

const fileStamp = (dir: string, name: string): string => {
  const st = statSync(join(dir, name));
  return `${st.size}\t${st.mtimeMs}\t${st.ino}`;
};

it('keeps the big file as it is for a few changes, and answers from it and the journal', async () => {
  const dir = workspace();
  const random = seededRandom(3);
  const model = new Map<string, Kept>();
  const paths = Array.from({ length: 30_000 }, (_, i) =>
    i % 10 === 0 ? `cfg/c${i}.yaml` : `up/u${String(i).padStart(6, '0')}.json`,
  );
  let ino = 1;
  const fresh = (): Kept => {
    const n = ino++;
    return {
      size: Math.floor(random() * 1e6),
      mtimeMs: 1_000_000 + n + random(),
      ino: n,
      sha: n.toString(16).padStart(64, '0') as Sha256Hex,
    };
  };
  const stampOf = (k: Kept) => ({ size: k.size, mtimeMs: k.mtimeMs, ino: k.ino, dev: 1 });
  let journalSaves = 0;
  let merges = 0;
  for (let process = 0; process < 24; process++) {
    const cache = StateCache.load(dir);
    const session = new Map<string, Kept>();
    const changed = new Map<string, Kept | null>();
    // The first process fills the file; later ones change a few paths, or now and then many.
    const ops = process === 0 ? 30_000 : process % 6 === 2 ? 9000 : 200;
    for (let op = 0; op < ops; op++) {
      const path = process === 0 ? paths[op]! : paths[Math.floor(random() * paths.length)]!;
      const r = process === 0 ? 0 : random();
      if (r < 0.5) {
        const k = fresh();
        cache.remember(join(dir, path), stampOf(k), k.sha, k.mtimeMs + HOUR);
        changed.set(path, k);
        session.delete(path);
      } else if (r < 0.6) {
        const k = fresh(); // racy: hashed within the window of its mtime
        cache.remember(join(dir, path), stampOf(k), k.sha, k.mtimeMs + 10);
        session.set(path, k);
        if (model.has(path) || changed.has(path)) changed.set(path, null);
      } else {
        const want = session.get(path) ?? (changed.has(path) ? changed.get(path) : model.get(path));
        if (want) expect(cache.lookup(join(dir, path), stampOf(want)), path).toBe(want.sha);
        else expect(cache.lookup(join(dir, path), stampOf(fresh())), path).toBeUndefined();
      }
    }
    const before = process === 0 ? undefined : fileStamp(dir, '.pipe/state');
    await cache.save();
    const gone = new Map<string, Kept>();
    for (const [path, k] of changed) {
      if (k === null && model.has(path)) gone.set(path, model.get(path)!);
      if (k === null) model.delete(path);
      else model.set(path, k);
    }
    let journal: string | undefined;
    try {
      journal = readFileSync(join(dir, '.pipe/state-journal'), 'utf8');
    } catch {
      journal = undefined;
    }
    if (process > 0 && journal !== undefined) {
      // A journal save: the big file is the one the journal names, untouched.
      expect(fileStamp(dir, '.pipe/state')).toBe(before);
      expect(journal.split('\n')[0]).toBe(`pipe-state-journal 1\t${before}`);
      expect(Buffer.byteLength(journal)).toBeLessThanOrEqual(JOURNAL_MAX_BYTES + 200);
      journalSaves++;
    } else if (process > 0) merges++;
    // Kept paths answer in the next process, from the journal or the big file: this process's,
    // and a fifth of the others.
    const next = StateCache.load(dir);
    for (const [i, path] of paths.entries()) {
      const want = model.get(path);
      if (want && (changed.has(path) || i % 5 === process % 5))
        expect(next.lookup(join(dir, path), stampOf(want)), path).toBe(want.sha);
    }
    // A kept stamp a racy hash removed answers no more.
    for (const [path, old] of gone)
      expect(next.lookup(join(dir, path), stampOf(old)), path).toBeUndefined();
    // state-small: exactly the kept lines outside the big folder, sorted.
    const small = [...model]
      .filter(([path]) => !path.startsWith('up/'))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([path, k]) => `${path}\t${k.size}\t${k.mtimeMs}\t${k.ino}\t${k.sha}`);
    expect(readFileSync(join(dir, '.pipe/state-small'), 'utf8')).toBe(
      `${['pipe-state 3', ...small].join('\n')}\n`,
    );
  }
  expect(journalSaves).toBeGreaterThan(3);
  expect(merges).toBeGreaterThan(0);
}, 60_000);

it('ignores a journal whose .pipe/state was replaced since', async () => {
  const dir = workspace();
  const stamp = (n: number) => ({ size: n, mtimeMs: 1000, ino: n, dev: 1 });
  const sha = (c: string) => c.repeat(64) as Sha256Hex;
  const first = StateCache.load(dir);
  for (let i = 0; i < 100; i++) first.remember(join(dir, `up/f${i}`), stamp(i), sha('a'), HOUR);
  await first.save();
  const second = StateCache.load(dir);
  second.remember(join(dir, 'up/new'), stamp(500), sha('b'), HOUR);
  await second.save();
  expect(readFileSync(join(dir, '.pipe/state-journal'), 'utf8')).toContain('up/new\t');
  expect(StateCache.load(dir).lookup(join(dir, 'up/new'), stamp(500))).toBe(sha('b'));
  // Another .pipe/state (an older pipe, a copy from elsewhere): the journal amends it no longer.
  writeFileSync(join(dir, '.pipe/state'), `pipe-state 3\nup/f1\t1\t1000\t1\t${sha('c')}\n`);
  const third = StateCache.load(dir);
  expect(third.lookup(join(dir, 'up/new'), stamp(500))).toBeUndefined();
  expect(third.lookup(join(dir, 'up/f1'), stamp(1))).toBe(sha('c'));
});
