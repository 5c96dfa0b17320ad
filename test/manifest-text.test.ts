// Splicing a stored manifest's bytes (lib/observe/manifest-text.ts) against an independent
// method: the new file list made as a Map (removed paths and everything under a removed folder
// deleted, added paths set), sorted, and hashed by hash.ts manifestHash, the function a walk of
// the folder uses. Seeded random lists over names that sort next to each other in the ways a
// byte search can get wrong: a name and its prefix, `a` beside `a/`, `a.b`, `a-b`, `a0`, `a b`.
import { describe, expect, it } from 'vitest';
import { manifestChunks, manifestHash } from '../lib/observe/hash.js';
import { manifestLinesOf, spliceManifest } from '../lib/observe/manifest-text.js';
import { parseManifestText } from '../lib/observe/manifest-store.js';
import type { FileHash } from '../lib/observe/types.js';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { seededRandom } from './helpers/seeded-random.js';

const NAMES = ['a', 'a.b', 'a-b', 'a0', 'a b', 'ab', 'b', 'z', 'a~'];

function text(files: readonly FileHash[], base: string): Buffer {
  let t = '';
  manifestChunks(files, base, (c) => {
    t += c;
  });
  return Buffer.from(t);
}

describe('manifest splice', () => {
  it('gives the hash, size, count and lines of the list made by a map, on 300 random changes', () => {
    const next = seededRandom(20261205);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    const randomPath = (): string => {
      const depth = 1 + Math.floor(next() * 3);
      return Array.from({ length: depth }, () => pick(NAMES)).join('/');
    };
    const sha = (): Sha256Hex =>
      Array.from({ length: 64 }, () => '0123456789abcdef'[Math.floor(next() * 16)]).join(
        '',
      ) as Sha256Hex;
    const base = 'data/raw';
    let checkedFolderCuts = 0;
    for (let round = 0; round < 300; round++) {
      const before = new Map<string, FileHash>();
      for (let i = 0; i < Math.floor(next() * 40); i++) {
        const rel = randomPath();
        before.set(rel, { path: `${base}/${rel}`, sha256: sha(), size: Math.floor(next() * 1e6) });
      }
      // Removals name files that are there, folders (prefixes of them), and paths never there.
      const removed = new Set<string>();
      for (let i = 0; i < Math.floor(next() * 4); i++) {
        const rel = next() < 0.5 && before.size > 0 ? pick([...before.keys()]) : randomPath();
        removed.add(next() < 0.5 ? rel.split('/').slice(0, -1).join('/') || rel : rel);
      }
      const added = new Map<string, FileHash>();
      for (let i = 0; i < Math.floor(next() * 4); i++) {
        const rel = next() < 0.3 && before.size > 0 ? pick([...before.keys()]) : randomPath();
        // Sometimes put back with the content it had: a line rewritten, but no change.
        const same = before.get(rel) !== undefined && next() < 0.3;
        const content = same ? before.get(rel)!.sha256 : sha();
        added.set(rel, { path: `${base}/${rel}`, sha256: content, size: Math.floor(next() * 1e6) });
      }

      const after = new Map(before);
      for (const r of removed)
        for (const p of [...after.keys()]) if (p === r || p.startsWith(`${r}/`)) after.delete(p);
      for (const [rel, f] of added) after.set(rel, f);
      const expected = [...after.values()].sort((x, y) => (x.path < y.path ? -1 : 1));
      if ([...removed].some((r) => [...before.keys()].some((p) => p.startsWith(`${r}/`))))
        checkedFolderCuts++;

      const old = [...before.values()].sort((x, y) => (x.path < y.path ? -1 : 1));
      const spliced = spliceManifest(
        text(old, base),
        { size: old.reduce((n, f) => n + f.size, 0), count: old.length },
        [...removed],
        [...added.entries()].map(([rel, f]) => ({ rel, sha256: f.sha256, size: f.size })),
      )!;
      expect(spliced.sha256).toBe(manifestHash(expected, base));
      expect(spliced.size).toBe(expected.reduce((n, f) => n + f.size, 0));
      expect(spliced.count).toBe(expected.length);
      const lines = parseManifestText(Buffer.concat(spliced.pieces).toString('utf8'), `${base}/`);
      expect(lines).toEqual(expected);
      // What changed, as the two maps say, path by path.
      const diff = [...new Set([...before.keys(), ...after.keys()])].sort().flatMap((rel) => {
        const a = before.get(rel)?.sha256;
        const b = after.get(rel)?.sha256;
        if (a === b) return [];
        return [
          { change: a === undefined ? 'added' : b === undefined ? 'deleted' : 'modified', rel },
        ];
      });
      expect(spliced.changes).toEqual(diff);

      // Finding lines by path: each asked-for file as the map has it; a path with no line, none.
      const newText = Buffer.concat(spliced.pieces);
      const asked = expected.filter(() => next() < 0.3);
      const rels = asked.map((f) => f.path.slice(base.length + 1));
      expect(manifestLinesOf(newText, rels, `${base}/`)).toEqual(asked);
      const absent = randomPath();
      if (!after.has(absent))
        expect(manifestLinesOf(newText, [...rels, absent], `${base}/`)).toBeUndefined();
    }
    // The rounds did cut whole folders, not only single files.
    expect(checkedFolderCuts).toBeGreaterThan(30);
  });

  it('declines paths whose bytes may not sort as their lines: the caller lists the files', () => {
    const files: FileHash[] = [{ path: 'd/a', sha256: 'a'.repeat(64) as Sha256Hex, size: 1 }];
    const add = (rel: string) => [{ rel, sha256: 'b'.repeat(64) as Sha256Hex, size: 2 }];
    const old = { size: 1, count: 1 };
    expect(spliceManifest(text(files, 'd'), old, [], add('a\u0001b'))).toBeUndefined();
    expect(spliceManifest(text(files, 'd'), old, [], add('é'))).toBeUndefined();
    expect(spliceManifest(text(files, 'd'), old, ['a\tb'], [])).toBeUndefined();
    expect(spliceManifest(text(files, 'd'), old, [], add('b'))).toBeDefined();
  });
});
