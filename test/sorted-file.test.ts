// SortedLineFile (lib/util/sorted-file.ts) finds in a file the line lowerBoundLine would find in
// the whole buffer, by positional reads. Expected answers come from a linear scan of the sorted
// lines with Buffer.compare, not from the binary searches under test; the files are big enough
// that searches halve several times, with lines up to the longest path, and keys before, between,
// on and after the lines, asked in order (answered from the kept span) and at random.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { SortedLineFile } from '../lib/util/sorted-file.js';
import { seededRandom } from './helpers/seeded-random.js';

const ALPHABET = 'abcdefghij/._-0123456789';

it('answers every key as a linear scan of the sorted lines does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-sorted-file-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const random = seededRandom(17);
  const word = (max: number): string => {
    const n = 1 + Math.floor(random() * max);
    let s = '';
    for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(random() * ALPHABET.length)];
    return s;
  };
  for (let round = 0; round < 8; round++) {
    // Mostly short lines; now and then one as long as the longest path (4,096 bytes).
    const set = new Set<string>();
    const count = [0, 1, 3, 200, 5000, 20_000, 60_000, 40_000][round]!;
    while (set.size < count) set.add(random() < 0.002 ? word(4096) : word(40));
    const lines = [...set]
      .map((path) => Buffer.from(`${path}\t${Math.floor(random() * 1e9)}`))
      .sort(Buffer.compare);
    const header = round % 2 === 0 ? '' : 'some header 1\n';
    const body = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    const path = join(dir, `f${round}`);
    writeFileSync(path, Buffer.concat([Buffer.from(header), body]));
    const scan = (key: Buffer): string | undefined => {
      const at = lines.find((l) => Buffer.compare(l, key) >= 0);
      return at?.toString();
    };
    const file = SortedLineFile.open(path, header.length, header.length + body.length);
    onTestFinished(() => file.close());
    const keys: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const pick = random();
      if (pick < 0.4 && lines.length > 0) {
        // A line's own path and tab (what state-cache.ts asks), or the whole line.
        const l = lines[Math.floor(random() * lines.length)]!;
        keys.push(pick < 0.3 ? l.subarray(0, l.indexOf(9) + 1) : l);
      } else if (pick < 0.45) keys.push(Buffer.from(''));
      else if (pick < 0.5)
        keys.push(Buffer.from('~~~~')); // after every line
      else keys.push(Buffer.from(`${word(40)}\t`));
    }
    // In order (as a sorted walk asks, mostly from the kept span), then at random.
    const ordered = [...keys].sort(Buffer.compare);
    for (const key of [...ordered, ...keys]) {
      expect(file.lowerBound(key)?.toString(), `round ${round} key ${key}`).toBe(scan(key));
    }
    if (count !== 20_000) continue;
    // Every line, as its path and tab and as itself, at random: among them the lines the
    // halving lands on.
    const shuffled = lines.map((l) => ({ l, r: random() })).sort((a, b) => a.r - b.r);
    for (const { l } of shuffled)
      expect(file.lowerBound(l.subarray(0, l.indexOf(9) + 1))?.toString()).toBe(l.toString());
    for (const { l } of shuffled.reverse())
      expect(file.lowerBound(l)?.toString()).toBe(l.toString());
  }
});

it('fails, rather than answers, when the file no longer holds whole lines where it did', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-sorted-file-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'f');
  const lines = Array.from({ length: 20_000 }, (_, i) => `p${String(i).padStart(6, '0')}\tx`);
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, text);
  const file = SortedLineFile.open(path, 0, text.length);
  onTestFinished(() => file.close());
  expect(file.lowerBound(Buffer.from('p010000\t'))?.toString()).toBe('p010000\tx');
  // Replaced in place by one line longer than a probe: no line start to be found.
  writeFileSync(path, 'y'.repeat(text.length));
  expect(() => file.lowerBound(Buffer.from('p000001\t'))).toThrow();
});
