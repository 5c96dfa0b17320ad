// The per-process observation memo (lib/observe/memo.ts) must never hand a stage an observation
// taken before an upstream stage rewrote that path.
//
//   gen (param gen.word) ──▶ data/gen/{a,b}.txt ──▶ whole (dep: the folder)       ──▶ out/whole.txt
//                                              └──▶ one   (dep: data/gen/a.txt)   ──▶ out/one.txt
//
// gen's outs are observed (memoised) BEFORE it runs, to judge it; a memo that did not forget them
// after the rewrite would show whole and one the old hashes, equal to their lock entries: they
// would stay "fresh" on stale data. The folder dep and the file-inside-the-out dep cover both ways
// a memoised path can overlap a rewritten out.
import { describe, expect, it } from 'vitest';
import { ObservationMemo, overlaps } from '../lib/observe/memo.js';
import type { PathHash } from '../lib/observe/types.js';
import { stage, tempWorkspace } from './helpers/workspace.js';

const FILES = {
  'pipeline.yaml': `stages:
  gen:
    cmd: stages/gen.mjs
    params: [gen.word]
    outs: [data/gen]
  whole:
    cmd: stages/whole.mjs
    deps: [data/gen]
    outs: [out/whole.txt]
  one:
    cmd: stages/one.mjs
    deps: [data/gen/a.txt]
    outs: [out/one.txt]
`,
  'params.yaml': 'gen:\n  word: alpha\n',
  'stages/gen.mjs': stage`
    fs.mkdirSync(out('data/gen'), { recursive: true });
    fs.writeFileSync(path.join(out('data/gen'), 'a.txt'), param('gen.word') + '\\n');
    fs.writeFileSync(path.join(out('data/gen'), 'b.txt'), 'constant\\n');`,
  'stages/whole.mjs': stage`
    const names = fs.readdirSync('data/gen').sort();
    fs.writeFileSync(out('out/whole.txt'), names.map((n) => fs.readFileSync('data/gen/' + n, 'utf8')).join(''));`,
  'stages/one.mjs': stage`
    fs.writeFileSync(out('out/one.txt'), fs.readFileSync('data/gen/a.txt', 'utf8').toUpperCase());`,
};

describe('observations memoised within one build', () => {
  it('a stage downstream of a rewritten out sees the new content, and the lock records it', async () => {
    const ws = await tempWorkspace(FILES);
    expect((await ws.pipe('build', '-j', '1')).code).toBe(0);
    ws.clearRuns();
    ws.write('params.yaml', 'gen:\n  word: beta\n');
    const r = await ws.pipe('build', '-j', '1');
    expect(r.code).toBe(0);
    expect(ws.runs().sort()).toEqual(['gen', 'one', 'whole']);
    expect(ws.read('out/whole.txt')).toBe('beta\nconstant\n');
    expect(ws.read('out/one.txt')).toBe('BETA\n');
    // The lock must hold the hashes of the NEW data/gen: a fresh process then finds all fresh.
    const status = await ws.pipe('status');
    expect(status.stdout).toBe('gen: fresh\nwhole: fresh\none: fresh\neverything is fresh\n');
  });

  it('a file edited between two builds is seen by the next one', async () => {
    const ws = await tempWorkspace(FILES);
    expect((await ws.pipe('build', '-j', '1')).code).toBe(0);
    ws.clearRuns();
    ws.write('data/gen/a.txt', 'edited\n'); // an out edited by hand: gen is stale, and so below
    expect((await ws.pipe('build', '-j', '1')).code).toBe(0);
    expect(ws.runs().sort()).toEqual(['gen']); // gen rewrites alpha: whole and one cut off
    expect(ws.read('data/gen/a.txt')).toBe('alpha\n');
  });
});

describe('ObservationMemo', () => {
  const hashOf = (path: string): Promise<PathHash> => Promise.resolve({ kind: 'missing', path });

  it('computes a path once, and again only after a rewrite that overlaps it', async () => {
    const memo = new ObservationMemo();
    let computed = 0;
    const observe = (p: string, glob = false): Promise<PathHash> =>
      memo.get(p, glob, () => {
        computed++;
        return hashOf(p);
      });
    for (const p of ['data/raw', 'data/raw/manifest.json', 'data', 'data/rawer', 'stages/*.ts'])
      await observe(p, p.includes('*'));
    await observe('data/raw');
    expect(computed).toBe(5);
    memo.forget(['data/raw']);
    // data/raw (itself), data/raw/manifest.json (inside), data (holds it), the glob (any): again.
    for (const p of ['data/raw', 'data/raw/manifest.json', 'data', 'data/rawer', 'stages/*.ts'])
      await observe(p, p.includes('*'));
    expect(computed).toBe(9); // data/rawer only shares a prefix: still memoised
  });

  it('overlaps: equal, inside, containing; not a mere string prefix', () => {
    expect(overlaps('data/raw', 'data/raw')).toBe(true);
    expect(overlaps('data/raw/a.json', 'data/raw')).toBe(true);
    expect(overlaps('data', 'data/raw')).toBe(true);
    expect(overlaps('data/rawer', 'data/raw')).toBe(false);
    expect(overlaps('samples', 'data/raw')).toBe(false);
  });
});
