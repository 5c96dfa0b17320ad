// How `.pipe/state` and `.pipe/state-small` are rewritten (lib/observe/state-cache.ts save): the
// changes merged into the sorted loaded lines, which are copied, not rebuilt. The expected files are
// written out here by hand from the format (`<path>\t<size>\t<mtime ms>\t<inode>\t<sha256>`,
// sorted by path; state-small: the lines outside the big folders of .pipe/folders).
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateCache } from '../lib/observe/state-cache.js';
import type { Sha256Hex } from '../lib/util/sha256.js';

const sha = (c: string): Sha256Hex => c.repeat(64) as Sha256Hex;
const line = (path: string, n: number, c: string): string => `${path}\t${n}\t1000\t${n}\t${sha(c)}`;
/** An hour after the mtimes above: every remembered stamp is old enough to be kept. */
const LATER = 1000 + 3_600_000;

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workspace(stateLines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-state-'));
  made.push(dir);
  mkdirSync(join(dir, '.pipe'));
  writeFileSync(join(dir, '.pipe/state'), `pipe-state 3\n${stateLines.join('\n')}\n`);
  // `up` is a big folder (two files in one trusted part): its lines stay out of state-small.
  writeFileSync(
    join(dir, '.pipe/folders'),
    `pipe-folders 4\nup\t${sha('d')}\t${sha('e')}\t6\t2\t${sha('f')}:2:6:200\n`,
  );
  return dir;
}

async function changeAndSave(dir: string, racy: boolean): Promise<void> {
  const cache = StateCache.load(dir);
  const stamp = (n: number, mtimeMs = 1000) => ({ size: n, mtimeMs, ino: n, dev: 1 });
  cache.remember(join(dir, 'up/b'), stamp(7), sha('7'), LATER); // replaced
  cache.remember(join(dir, 'up/aa'), stamp(8), sha('8'), LATER); // inserted between
  cache.remember(join(dir, 'zz'), stamp(9), sha('9'), LATER); // after every line
  cache.remember(join(dir, 'a'), stamp(5), sha('5'), LATER); // before every line
  // Racy (mtime within the window of the clock reading): the stored line is dropped. (Found by
  // binary search, so only in a sorted file; in another it would stay, as it always did.)
  if (racy) cache.remember(join(dir, 'stages/s.mjs'), stamp(6, LATER), sha('6'), LATER);
  await cache.save();
}

const EXPECTED_STATE = [
  'pipe-state 3',
  line('a', 5, '5'),
  line('out/x', 1, '1'),
  line('up/a', 3, '3'),
  line('up/aa', 8, '8'),
  line('up/b', 7, '7'),
  line('up/c', 4, '4'),
  line('zz', 9, '9'),
  '',
].join('\n');

const EXPECTED_SMALL = [
  'pipe-state 3',
  line('a', 5, '5'),
  line('out/x', 1, '1'),
  line('zz', 9, '9'),
  '',
].join('\n');

/** A `.pipe/state` as save() writes it: sorted by path. */
const SORTED_LINES = [
  line('out/x', 1, '1'),
  line('stages/s.mjs', 6, '0'),
  line('up/a', 3, '3'),
  line('up/b', 2, '2'),
  line('up/c', 4, '4'),
];

describe('.pipe/state rewritten after a few changes', () => {
  it('merges them into the sorted lines; state-small holds the lines outside big folders', async () => {
    const dir = workspace(SORTED_LINES);
    await changeAndSave(dir, true);
    expect(readFileSync(join(dir, '.pipe/state'), 'utf8')).toBe(EXPECTED_STATE);
    expect(readFileSync(join(dir, '.pipe/state-small'), 'utf8')).toBe(EXPECTED_SMALL);
    // And the lines are read back: a lookup by the new stamp answers the new hash.
    const again = StateCache.load(dir);
    expect(again.lookup(join(dir, 'up/b'), { size: 7, mtimeMs: 1000, ino: 7, dev: 1 })).toBe(
      sha('7'),
    );
  });

  it('gives the same files from lines out of order (a hand-edited file)', async () => {
    const dir = workspace([
      line('up/c', 4, '4'),
      line('up/b', 2, '2'),
      line('stages/s.mjs', 6, '0'),
      line('out/x', 1, '1'),
      line('up/a', 3, '3'),
    ]);
    await changeAndSave(dir, false);
    const withStages = (text: string): string =>
      text.replace(
        `${line('out/x', 1, '1')}\n`,
        `${line('out/x', 1, '1')}\n${line('stages/s.mjs', 6, '0')}\n`,
      );
    expect(readFileSync(join(dir, '.pipe/state'), 'utf8')).toBe(withStages(EXPECTED_STATE));
    expect(readFileSync(join(dir, '.pipe/state-small'), 'utf8')).toBe(withStages(EXPECTED_SMALL));
  });

  it('trusts the order of a file it wrote, and checks one edited since', async () => {
    const dir = workspace(SORTED_LINES);
    await changeAndSave(dir, false);
    const state = join(dir, '.pipe/state');
    const st = statSync(state);
    // The stamp of the file as written: whoever loads it next skips the check of its order.
    expect(readFileSync(join(dir, '.pipe/state-sorted'), 'utf8')).toBe(
      `${st.size}\t${st.mtimeMs}\t${st.ino}\n`,
    );
    // Edited by hand since: two lines swapped (the same size), so the stamp no longer matches.
    const lines = readFileSync(state, 'utf8').split('\n');
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    writeFileSync(state, lines.join('\n'));
    utimesSync(state, new Date(5_000), new Date(5_000));
    const cache = StateCache.load(dir);
    cache.remember(
      join(dir, 'up/ab'),
      { size: 11, mtimeMs: 1000, ino: 11, dev: 1 },
      sha('b'),
      LATER,
    );
    await cache.save();
    const expected = EXPECTED_STATE.replace(
      `${line('up/aa', 8, '8')}\n`,
      `${line('up/aa', 8, '8')}\n${line('up/ab', 11, 'b')}\n`,
    ).replace(
      `${line('out/x', 1, '1')}\n`,
      `${line('out/x', 1, '1')}\n${line('stages/s.mjs', 6, '0')}\n`,
    );
    expect(readFileSync(state, 'utf8')).toBe(expected);
  });
});
