// The cut points of a bucket listing (lib/observe/gcs-key-ranges.ts), checked as properties over
// random inputs: every boundary lies strictly inside the range being cut, they increase, and each
// compares with every name the same way in JavaScript's order (UTF-16 code units) and in the
// service's (UTF-8 bytes, via Buffer.compare): so the ranges they make partition the rest of the
// listing on the test server and on GCS alike.
import { describe, expect, it } from 'vitest';
import { KeyAlphabet, splitPoints } from '../lib/observe/gcs-key-ranges.js';

/** Characters chosen to straddle every place where code-unit and byte order could disagree. */
const CHARS = [
  'a',
  'b',
  'z',
  '0',
  '9',
  '-',
  '.',
  '/',
  '\u0001',
  '\u007f',
  '\u0080',
  'é',
  'ü',
  '\u07ff',
  '\u0800',
  '日',
  '本',
  '\ud7ff',
  '\ue000',
  '\ufffd',
  '\uffff',
  '😀',
  '𝄞',
];

function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x / 2 ** 32;
  };
}

function randomName(next: () => number, prefix: string): string {
  const length = 1 + Math.floor(next() * 6);
  let out = prefix;
  for (let i = 0; i < length; i++) out += CHARS[Math.floor(next() * CHARS.length)]!;
  return out;
}

const jsOrder = (a: string, b: string) => Math.sign(a < b ? -1 : a > b ? 1 : 0);
const byteOrder = (a: string, b: string) =>
  Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('splitPoints', () => {
  it('cuts strictly inside (lo, end), increasing, and sorts against names as the service does', () => {
    let checked = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const prefix = next() < 0.5 ? 'up/' : '';
      const names = Array.from({ length: 40 }, () => randomName(next, prefix)).sort(jsOrder);
      const lo = names[Math.floor(next() * 20)]!;
      const endName = names[20 + Math.floor(next() * 20)]!;
      const end = next() < 0.3 || endName <= lo ? null : endName;
      const alphabet = new KeyAlphabet();
      alphabet.observe(names, prefix.length);
      const max = 1 + Math.floor(next() * 40);
      const cuts = splitPoints(lo, end, prefix.length, lo.length, alphabet, max);
      expect(cuts.length).toBeLessThanOrEqual(max);
      for (const [k, cut] of cuts.entries()) {
        expect(cut > lo, `${JSON.stringify(cut)} > ${JSON.stringify(lo)}`).toBe(true);
        if (end !== null) expect(cut < end).toBe(true);
        if (k > 0) expect(cuts[k - 1]! < cut).toBe(true);
        expect(cut.startsWith(prefix)).toBe(true);
        for (let i = prefix.length; i < cut.length; i++)
          expect(cut.charCodeAt(i)).toBeLessThan(0xd800);
        for (const name of names) expect(jsOrder(cut, name)).toBe(byteOrder(cut, name));
        checked++;
      }
    }
    // The property held over many cuts, not vacuously over none.
    expect(checked).toBeGreaterThan(1000);
  });

  it("cuts where the page varies, at a counter's leading digits, never inside a literal", () => {
    const alphabet = new KeyAlphabet();
    const page = Array.from(
      { length: 67 },
      (_, k) => `uploads/user-${String(k + 1).padStart(5, '0')}`,
    );
    alphabet.observe(page, 'uploads/'.length);
    const cuts = splitPoints('uploads/user-00067', null, 8, 16, alphabet, 100);
    expect(cuts).toContain('uploads/user-1'); // user-1xxxx: a range of its own
    expect(cuts).toContain('uploads/user-01');
    expect(cuts).toContain('uploads/user-0007');
    expect(cuts).not.toContain('uploads/user-0006'); // not above the last name
    expect(cuts.filter((c) => !c.startsWith('uploads/user-'))).toEqual([]); // "user" is a literal
    const digits = new KeyAlphabet();
    digits.observe(['a/x0', 'a/x9'], 2);
    expect(splitPoints('a/x', 'a/x5', 2, 2, digits, 10)).toEqual([
      'a/x0',
      'a/x1',
      'a/x2',
      'a/x3',
      'a/x4',
    ]);
  });

  it('never cuts inside characters that sort differently in UTF-8', () => {
    const alphabet = new KeyAlphabet();
    alphabet.observe(['p/a', 'p/b', 'p/a😀a'], 2);
    // 'p/a😀b' lies above the last name too, but holds a surrogate pair: against a name with
    // U+E000 where the pair is, JavaScript and UTF-8 disagree. So no cut reaches past 'p/a'.
    expect(splitPoints('p/a😀a', null, 2, 6, alphabet, 10)).toEqual([
      'p/b',
      'p/c',
      'p/d',
      'p/e',
      'p/f',
    ]);
  });
});
