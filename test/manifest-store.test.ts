// A manifest saved with saveManifestText is written in the background: this process reads it at
// once, anything that names it on disk waits for flushManifestWrites, which also reports a write
// that failed. The expected text and hash are made here from the file list (the manifest format:
// `<path>\t<sha256>\t<size>\n` per file, sha256 over those bytes), not by the code under test.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  flushManifestWrites,
  loadManifest,
  manifestStored,
  saveManifestText,
} from '../lib/observe/manifest-store.js';
import type { Sha256Hex } from '../lib/util/sha256.js';

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-manifests-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const files = Array.from({ length: 500 }, (_, i) => ({
  path: `data/f${String(i).padStart(4, '0')}.txt`,
  sha256: createHash('sha256').update(`file ${i}`).digest('hex') as Sha256Hex,
  size: i * 7,
}));
const text = files.map((f) => `${f.path.slice('data/'.length)}\t${f.sha256}\t${f.size}\n`).join('');
const sha = createHash('sha256').update(text).digest('hex') as Sha256Hex;
/** The text in pieces, as a folder's parts hand it over. */
const pieces = [text.slice(0, 1000), text.slice(1000, 25_000), text.slice(25_000)].map((p) =>
  Buffer.from(p),
);

describe('a manifest saved in the background', () => {
  it('is read by this process at once, and is on disk, byte for byte, once flushed', async () => {
    const ws = workspace();
    await saveManifestText(ws, sha, pieces);
    expect(manifestStored(ws, sha)).toBe(true);
    expect(loadManifest(ws, sha, 'data')).toEqual(files);
    await flushManifestWrites();
    expect(readFileSync(join(ws, '.pipe/manifests', `${sha}.txt`), 'utf8')).toBe(text);
  });

  it('that could not be written makes the flush fail, once', async () => {
    const ws = workspace();
    mkdirSync(join(ws, '.pipe'));
    writeFileSync(join(ws, '.pipe/manifests'), 'a file where the store folder should be\n');
    await saveManifestText(ws, sha, pieces);
    await expect(flushManifestWrites()).rejects.toThrow();
    await expect(flushManifestWrites()).resolves.toBeUndefined();
  });
});
