// The stored-manifest diff (lib/observe/manifest-diff.ts) merges two manifest texts byte by byte.
// Expected changes come from an independent method: a Map of path -> sha256 per side, compared
// key by key. The paths include the orders a byte merge can get wrong: a path that is a prefix of
// another, followed by a character below and above the tab, and files beside folders of a
// similar name; and a folder walked a folder at a time lists in the fully sorted order.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFolder } from '../lib/observe/hash.js';
import { storedManifestDiff } from '../lib/observe/manifest-diff.js';
import { loadManifest, saveManifest } from '../lib/observe/manifest-store.js';
import type { FileHash } from '../lib/observe/types.js';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { seededRandom } from './helpers/seeded-random.js';

const sha = (c: string): Sha256Hex => c.repeat(64) as Sha256Hex;
const file = (path: string, c: string, size = 1): FileHash => ({ path, sha256: sha(c), size });

function mapDiff(a: readonly FileHash[], b: readonly FileHash[]): string[] {
  const before = new Map(a.map((f) => [f.path, f.sha256]));
  const after = new Map(b.map((f) => [f.path, f.sha256]));
  const out: string[] = [];
  for (const [p, s] of before) {
    if (!after.has(p)) out.push(`deleted ${p}`);
    else if (after.get(p) !== s) out.push(`modified ${p}`);
  }
  for (const p of after.keys()) if (!before.has(p)) out.push(`added ${p}`);
  return out.sort();
}

describe('stored manifest diff', () => {
  it('names what the path maps name, on prefix paths and characters around the tab', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'pipe-mdiff-'));
    const base = 'data';
    const a = [
      file('data/a', '1'),
      file('data/a\u0001b', '2'),
      file('data/a b', '3'),
      file('data/a/x', '4'),
      file('data/a-b', '5'),
      file('data/b', '6'),
      file('data/zz', '7'),
    ];
    const b = [
      file('data/a', '1'),
      file('data/a\u0001b', '9'), // modified
      // 'data/a b' deleted
      file('data/a/x', '4'),
      file('data/a/y', '8'), // added
      file('data/a-b', '5'),
      file('data/b', '6', 2), // same content hash, other size: not a content change
      file('data/zz', '7'),
      file('data/zzz', '7'), // added, a prefix extended
    ];
    const from = await saveManifest(ws, base, a);
    const to = await saveManifest(ws, base, b);
    // The store gives back exactly what was saved (checked against the name).
    const byPath = (x: FileHash, y: FileHash): number => (x.path < y.path ? -1 : 1);
    expect(loadManifest(ws, from, base)!.sort(byPath)).toEqual([...a].sort(byPath));
    const changes = storedManifestDiff(ws, from, to, base)!;
    expect(changes.map((c) => `${c.change} ${c.file}`).sort()).toEqual(mapDiff(a, b));
    expect(changes).toHaveLength(4);
    // A manifest that is not stored, or not ASCII, leaves the merge to the caller.
    expect(storedManifestDiff(ws, from, sha('f'), base)).toBeUndefined();
    const c = await saveManifest(ws, base, [file('data/é', '1')]);
    expect(storedManifestDiff(ws, from, c, base)).toBeUndefined();
  });

  it('names every change between big manifests, sparse or in runs, as the path maps do', async () => {
    // Manifests of MBs, so the merge skips equal runs a block at a time: a change at a block's
    // edge, runs of changes longer than a block, one side ending inside a block, none at all.
    const ws = mkdtempSync(join(tmpdir(), 'pipe-mdiff-big-'));
    const random = seededRandom(41);
    const hex = '0123456789abcdef';
    for (let round = 0; round < 12; round++) {
      const n = 2000 + Math.floor(random() * 30_000);
      const a: FileHash[] = [];
      for (let k = 0; k < n; k++)
        a.push(file(`up/u${String(k * 2).padStart(7, '0')}.json`, hex[k % 16]!, k));
      const b: FileHash[] = [];
      const rate = [0, 1e-4, 1e-3, 0.05, 0.5][round % 5]!;
      let run = 0;
      for (let k = 0; k < n; k++) {
        // Now and then a run of changed lines longer than a block (~80 bytes a line).
        if (run === 0 && random() < rate / 50) run = 500 + Math.floor(random() * 2000);
        const change = run > 0 || random() < rate;
        if (run > 0) run--;
        const f = a[k]!;
        if (!change) b.push(f);
        else {
          const what = random();
          if (what < 0.3) continue; // deleted
          if (what < 0.6) b.push(file(f.path, hex[(k + 1) % 16]!, f.size));
          else {
            b.push(f);
            b.push(file(`up/u${String(k * 2 + 1).padStart(7, '0')}.json`, 'e'));
          }
        }
      }
      if (round % 4 === 3) b.length = Math.floor(b.length * random()); // cut short
      const from = await saveManifest(ws, 'up', a);
      const to = await saveManifest(ws, 'up', b);
      const changes = storedManifestDiff(ws, from, to, 'up')!;
      expect(changes.map((c) => `${c.change} ${c.file}`).sort(), `round ${round}`).toEqual(
        mapDiff(a, b),
      );
      // In manifest order, as documented.
      const paths = changes.map((c) => c.file);
      expect(paths, `round ${round}`).toEqual([...paths].sort());
    }
    // The line a block edge (64 KiB) cuts through changed after the edge, the edge falling on
    // every byte of such a line as the names grow: that line must be compared from its start.
    for (let pad = 0; pad < 90; pad += 1) {
      const name = (k: number) => `up/${'p'.repeat(pad)}${String(k).padStart(6, '0')}.json`;
      const a: FileHash[] = [];
      for (let k = 0; k < 1500; k++) a.push(file(name(k), '1', 1000 + k));
      // Line bytes: name without `up/`, tab, 64 hex, tab, size, newline.
      const lineBytes = name(0).length - 3 + 1 + 64 + 1 + 4 + 1;
      const edge = Math.floor(65536 / lineBytes);
      const b = a.map((f, k) => (k === edge ? file(f.path, '2', f.size) : f));
      const from = await saveManifest(ws, 'up', a);
      const to = await saveManifest(ws, 'up', b);
      expect(storedManifestDiff(ws, from, to, 'up'), `pad ${pad}`).toEqual([
        { change: 'modified', file: a[edge]!.path },
      ]);
    }
  });

  it('lists a folder in the sorted order of its full paths', () => {
    const ws = mkdtempSync(join(tmpdir(), 'pipe-walk-'));
    for (const d of ['d/a', 'd/a/b', 'd/ab', 'd/a-c']) mkdirSync(join(ws, d), { recursive: true });
    for (const f of ['d/a/b/1', 'd/a/2', 'd/ab/3', 'd/a-c/4', 'd/a-', 'd/a.txt', 'd/a0', 'd/Z'])
      writeFileSync(join(ws, f), f);
    const listed = listFolder(ws, 'd');
    expect(listed).toEqual([...listed].sort());
    expect(listed).toHaveLength(8);
  });
});
