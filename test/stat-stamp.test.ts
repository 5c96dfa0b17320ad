// The stamps a big folder's stat pass takes through Node's fs binding (stat-stamp.ts) are the ones
// statSync gives, field for field, on every kind of entry the pass meets; a path it cannot stat
// fails the same way; and the binding is taken only where it checks out. The expected stamps come
// from fs.statSync, Node's public API, not from the code under test.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  ftruncateSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { expect, it, onTestFinished } from 'vitest';
import {
  statStamp,
  statStampIsFast,
  statStampSlow,
  type Stamp,
} from '../lib/observe/stat-stamp.js';

const blank = (): Stamp => ({ size: -1, mtimeMs: -1, ino: -1, dev: -1 });

it('gives statSync’s size, mtime, inode and device for files, links, folders and odd times', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-stat-stamp-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'plain.json'), '{"a":1}\n');
  writeFileSync(join(dir, 'empty'), '');
  linkSync(join(dir, 'plain.json'), join(dir, 'hard.json'));
  symlinkSync('plain.json', join(dir, 'soft.json'));
  mkdirSync(join(dir, 'sub'));
  // A time with a fraction of a millisecond, one before 1970 and one past 2038.
  writeFileSync(join(dir, 'frac'), 'x');
  utimesSync(join(dir, 'frac'), 1_700_000_000.123456, 1_700_000_000.987654);
  writeFileSync(join(dir, 'old'), 'y');
  utimesSync(join(dir, 'old'), -86_400.5, -86_400.5);
  writeFileSync(join(dir, 'future'), 'z');
  utimesSync(join(dir, 'future'), 4_102_444_800.25, 4_102_444_800.25);
  // Bigger than 4 GiB, sparse: a size past 32 bits.
  const fd = openSync(join(dir, 'sparse'), 'w');
  ftruncateSync(fd, 5 * 2 ** 30 + 3);
  closeSync(fd);

  const stat = statStamp();
  for (const name of [
    'plain.json',
    'empty',
    'hard.json',
    'soft.json',
    'sub',
    'frac',
    'old',
    'future',
    'sparse',
  ]) {
    const path = join(dir, name);
    const got = blank();
    stat(path, got);
    const st = statSync(path);
    expect(got, name).toEqual({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev });
    const slow = blank();
    statStampSlow(path, slow);
    expect(got, name).toEqual(slow);
  }
  // A symlink is stamped by its target, as hash.ts hashes it.
  const link = blank();
  stat(join(dir, 'soft.json'), link);
  expect(link.ino).toBe(statSync(join(dir, 'plain.json')).ino);
});

it('fails on a missing path or a dangling link with the error statSync throws', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-stat-stamp-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  symlinkSync('nowhere', join(dir, 'dangling'));
  writeFileSync(join(dir, 'file'), '');
  for (const path of [join(dir, 'missing'), join(dir, 'dangling'), join(dir, 'file', 'below')]) {
    let expected: NodeJS.ErrnoException | undefined;
    try {
      statSync(path);
    } catch (error) {
      expected = error as NodeJS.ErrnoException;
    }
    expect(expected, path).toBeDefined();
    expect(() => statStamp()(path, blank()), path).toThrow(
      expect.objectContaining({ code: expected!.code, syscall: 'stat' }),
    );
  }
});

it('takes the binding on this Node, in worker threads too, and never with --pending-deprecation', async () => {
  // Node 20 to 24 answer statSync through the binding this checks; a Node where the check fails
  // falls back to statSync, and this test says so.
  expect(statStampIsFast()).toBe(true);
  const compiled = fileURLToPath(new URL('../dist/lib/observe/stat-stamp.js', import.meta.url));
  const inWorker = await new Promise<unknown>((resolve, reject) => {
    const w = new Worker(
      `import(${JSON.stringify(compiled)}).then((m) => require('node:worker_threads').parentPort.postMessage(m.statStampIsFast()));`,
      { eval: true },
    );
    w.once('message', resolve);
    w.once('error', reject);
  });
  expect(inWorker).toBe(true);
  // The binding would print DEP0111's warning there: stamps come from statSync, silently.
  const script = `import(${JSON.stringify(compiled)}).then((m) => { const s = {}; m.statStamp()(${JSON.stringify(compiled)}, s); console.log(JSON.stringify([m.statStampIsFast(), s.size])); })`;
  for (const how of [
    { args: ['--pending-deprecation'], env: {} },
    { args: [], env: { NODE_PENDING_DEPRECATION: '1' } },
  ]) {
    const run = spawnSync(process.execPath, [...how.args, '-e', script], {
      env: { ...process.env, ...how.env },
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([false, statSync(compiled).size]);
  }
});
