// writeFileAtomic given its content in pieces writes exactly their concatenation, whatever mix of
// small byte pieces (joined into bigger writes), big ones and strings (encoded a chunk at a time)
// it is given. The expected bytes come from Buffer.concat of the same pieces, not from the code
// under test.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it, onTestFinished } from 'vitest';
import { writeFileAtomic } from '../lib/util/atomic-write.js';
import { seededRandom } from './helpers/seeded-random.js';

it('writes pieces of every kind and size in order, byte for byte, and leaves no temp file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-atomic-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const random = seededRandom(7);
  const pieces: (string | Uint8Array)[] = [];
  // Long runs of small byte pieces (~12 MB: joined writes end by size), broken now and then by a
  // string, an empty piece or one bigger than a joined write.
  for (let i = 0; i < 8000; i++) {
    const kind = random();
    if (kind < 0.997)
      pieces.push(Buffer.from(`part ${i}\t${'x'.repeat(Math.floor(random() * 3000))}\n`));
    else if (kind < 0.998) pieces.push(`string ${i} é 😀\n`);
    else if (kind < 0.999) pieces.push(new Uint8Array(0));
    else pieces.push(Buffer.alloc(5 << 20, i % 251));
  }
  const path = join(dir, 'out.txt');
  await writeFileAtomic(path, pieces);
  const expected = Buffer.concat(pieces.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
  const written = readFileSync(path);
  expect(written.length).toBe(expected.length);
  expect(written.equals(expected)).toBe(true);
  expect(readdirSync(dir)).toEqual(['out.txt']);
});
