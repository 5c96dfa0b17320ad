// lib/versions/diff.ts on hand-made stage sets, in-process. Every expected list and count below is
// read off the two sets written out here (a file is "changed" when its path is on both sides with
// different sha256), not computed by the module under test.
import { describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import type { LockEntry } from '../lib/build/lockfile.js';
import {
  diffVersions,
  formatDiffTable,
  recordCounts,
  type StageSet,
} from '../lib/versions/diff.js';

const sha = (c: string) => c.repeat(64) as Sha256Hex;
const lock = (metrics?: Record<string, unknown>): LockEntry =>
  ({
    fingerprint: sha('f'),
    cmd: {},
    deps: {},
    params: {},
    env: {},
    outs: {},
    ...(metrics === undefined ? {} : { metrics }),
  }) as unknown as LockEntry;
const files = (...rows: [string, string][]) =>
  rows.map(([path, c]) => ({ path, sha256: sha(c), size: 1 }));

const A: StageSet = {
  clean: {
    lock: lock({ records: { keystrokes: 100, sessions: 4 } }),
    files: files(['c/a', '1'], ['c/b', '2'], ['c/c', '3']),
  },
  old: { lock: lock({ records: 7 }), files: files(['o/x', '4']) },
  same: { lock: lock(), files: files(['s/1', '5']) },
};
const B: StageSet = {
  clean: {
    lock: lock({ records: { keystrokes: 90, users: 2 } }),
    files: files(['c/a', '1'], ['c/b', '9'], ['c/d', '6'], ['c/e', '7']),
  },
  same: { lock: lock(), files: files(['s/1', '5']) },
  fresh: { lock: lock({ records: 3 }), files: files(['n/1', '8'], ['n/2', '8']) },
};

describe('diffVersions', () => {
  const diff = diffVersions(A, B);

  it("lists per stage what B added, removed and changed against A, B's stages first", () => {
    expect(diff.stages.map((s) => [s.stage, s.status])).toEqual([
      ['clean', 'changed'],
      ['same', 'same'],
      ['fresh', 'added'],
      ['old', 'removed'],
    ]);
    // clean: c/a same sha, c/b 2 -> 9, c/c only in A, c/d and c/e only in B.
    expect(diff.stages[0]).toMatchObject({
      added: ['c/d', 'c/e'],
      removed: ['c/c'],
      changed: ['c/b'],
      unchanged: 1,
    });
    expect(diff.stages[1]).toMatchObject({ added: [], removed: [], changed: [], unchanged: 1 });
    expect(diff.stages[2]).toMatchObject({
      added: ['n/1', 'n/2'],
      removed: [],
      changed: [],
      unchanged: 0,
    });
    expect(diff.stages[3]).toMatchObject({
      added: [],
      removed: ['o/x'],
      changed: [],
      unchanged: 0,
    });
    // 2 + 2 added, 1 + 1 removed, 1 changed, 1 + 1 unchanged.
    expect(diff.totals).toEqual({ added: 4, removed: 2, changed: 1, unchanged: 2 });
  });

  it('pairs record counts by name; a count one side lacks is null', () => {
    expect(diff.stages[0]!.records).toEqual([
      { name: 'keystrokes', before: 100, after: 90 },
      { name: 'users', before: null, after: 2 },
      { name: 'sessions', before: 4, after: null },
    ]);
    expect(diff.stages[2]!.records).toEqual([{ name: 'records', before: null, after: 3 }]);
    expect(diff.stages[1]!.records).toEqual([]);
  });

  it("follows a given stage order (the pipeline's), then the rest as before", () => {
    expect(diffVersions(A, B, ['old', 'same', 'nowhere']).stages.map((s) => s.stage)).toEqual([
      'old',
      'same',
      'clean',
      'fresh',
    ]);
  });

  it('finds nothing between a set and itself', () => {
    const self = diffVersions(A, A);
    expect(self.totals).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 5 });
    expect(self.stages.every((s) => s.status === 'same')).toBe(true);
  });

  it('reads only numbers as counts', () => {
    expect([
      ...recordCounts({ records: { n: 1, label: 'x', nested: { m: 2 } }, other: 5 }),
    ]).toEqual([['n', 1]]);
    expect([...recordCounts(undefined)]).toEqual([]);
  });

  it('prints one aligned row per stage and the totals', () => {
    expect(formatDiffTable(diff, 'A', 'B')).toBe(
      [
        'stage              added  removed  changed  unchanged  records (A -> B)',
        'clean                  2        1        1          1  keystrokes 100 -> 90, users - -> 2, sessions 4 -> -',
        'same                   0        0        0          1',
        'fresh (new stage)      2        0        0          0  records - -> 3',
        'old (stage gone)       0        1        0          0  records 7 -> -',
        'total                  4        2        1          2',
        '',
      ].join('\n'),
    );
  });
});
