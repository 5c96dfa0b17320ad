// The line lookups incremental download and clean rely on instead of parsing whole files
// (stages/shared/sorted-lines.ts): data/raw/manifest.json spliced line by line, and clean's part
// records searched by member and key. Expected values come from an independent method: the
// manifest from scratch (manifestFromScratch + manifestText over a plain list) and Array.includes
// over the record as written. Paths include what sorts or encodes awkwardly: a space and '!' (below
// '"'), a quote, a backslash, a newline, a slash, accents, a character past the BMP and one just
// below it (UTF-16 and UTF-8 order differ there).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PartLookup } from '../stages/shared/clean-lookup.js';
import { PartFile, writePart, type PartRecord } from '../stages/shared/clean-parts.js';
import { ManifestLines } from '../stages/shared/manifest-lines.js';
import { manifestFromScratch, manifestText, type ManifestFile } from '../stages/shared/uploads.js';
import { seededRandom } from './helpers/seeded-random.js';

const NAMES = ['a', 'a b', 'a!', 'a"b', 'a\\b', 'a\nb', 'a/b', 'é', '😀x', '\uE000', 'z', 'b'];

const joined = (pieces: readonly Buffer[]) => Buffer.concat(pieces as Buffer[]).toString('utf8');

const dir = mkdtempSync(join(tmpdir(), 'pipe-manifest-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const onDisk = join(dir, 'manifest.json');

describe('ManifestLines', () => {
  it('finds in a big manifest opened, not read, what a scan of its entries finds', () => {
    const random = seededRandom(99);
    const files: ManifestFile[] = [];
    const seen = new Set<string>();
    while (files.length < 20_000) {
      const name = `${NAMES[Math.floor(random() * NAMES.length)]}/${Math.floor(random() * 1e9)}`;
      if (seen.has(name)) continue;
      seen.add(name);
      files.push({ path: name, size: files.length, sha256: 'x'.repeat(64) });
    }
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    writeFileSync(onDisk, manifestText({ source: 'file://u', files, deleted: ['gone'] }));
    const opened = ManifestLines.open(onDisk);
    expect(opened.count()).toBe(files.length);
    const asked = [
      ...files.filter(() => random() < 0.05).map((f) => f.path),
      'a',
      '',
      '\uffff',
      'é/',
    ];
    for (const path of asked)
      expect(opened.find(path), path).toEqual(files.find((f) => f.path === path));
    expect(opened.wasRead).toBe(false);
    // What needs the whole text reads it: the same answers as read().
    expect(opened.deleted).toEqual(['gone']);
    expect(opened.wasRead).toBe(true);
    expect(opened.all()).toEqual(files);
    // A manifest whose header has no count (an older download) is read whole when opened.
    const old = manifestText({ source: 'file://u', files: files.slice(0, 3), deleted: [] });
    writeFileSync(onDisk, old.replace(/,"count":\d+/, ''));
    expect(ManifestLines.open(onDisk).count()).toBe(3);
    expect(ManifestLines.open(onDisk).find(files[1]!.path)).toEqual(files[1]);
    // A count that is not the entries' is no manifest of download's layout: parsed, and right.
    writeFileSync(onDisk, old.replace(/"count":\d+/, '"count":7'));
    expect(ManifestLines.read(onDisk).count()).toBe(3);
  });

  it('splices the same bytes a from-scratch manifest has, over 500 random steps', () => {
    const random = seededRandom(20261205);
    let files: ManifestFile[] = [];
    let deleted: string[] = [];
    let text = Buffer.from(manifestText({ source: 'file://u', files: [], deleted: [] }));
    for (let step = 0; step < 500; step++) {
      const present = new Set(files.map((f) => f.path));
      const placed: ManifestFile[] = [];
      const gone: string[] = [];
      for (const path of NAMES) {
        const r = random();
        if (r < 0.15) placed.push({ path, size: step, sha256: `h${step}` });
        else if (r < 0.25 && present.has(path)) gone.push(path);
      }
      const previous = ManifestLines.fromText(text);
      expect(previous.count(), `step ${step}`).toBe(files.length);
      const next = previous.afterChanges('file://u', placed, gone);
      const now = [
        ...files.filter((f) => !gone.includes(f.path) && !placed.some((p) => p.path === f.path)),
        ...placed,
      ];
      const expected = manifestFromScratch('file://u', { source: 'file://u', files, deleted }, now);
      expect(joined(next.pieces), `step ${step}`).toBe(manifestText(expected));
      expect(next.uploads).toBe(expected.files.length);
      expect(next.deleted).toEqual(expected.deleted);
      text = Buffer.from(joined(next.pieces));
      const lines = ManifestLines.fromText(text);
      for (const path of NAMES) {
        const entry = expected.files.find((f) => f.path === path);
        expect(lines.find(path), `step ${step} ${JSON.stringify(path)}`).toEqual(entry);
        expect(lines.indexOf(path)).toBe(entry === undefined ? -1 : expected.files.indexOf(entry));
      }
      expect(lines.all()).toEqual(expected.files);
      // Opened, not read: the same answers from positional reads of the file.
      writeFileSync(onDisk, text);
      const opened = ManifestLines.open(onDisk);
      expect(opened.count()).toBe(expected.files.length);
      for (const path of NAMES)
        expect(opened.find(path)).toEqual(expected.files.find((f) => f.path === path));
      files = [...expected.files];
      deleted = [...expected.deleted];
    }
  });

  it('reads a manifest in another layout (an older download wrote it indented)', () => {
    const files = [
      { path: 'b', size: 2, sha256: 'y' },
      { path: 'a', size: 1, sha256: 'x' },
    ];
    const lines = ManifestLines.fromText(
      Buffer.from(JSON.stringify({ source: 's', files, deleted: ['c'] }, null, 2)),
    );
    expect(lines.count()).toBe(2);
    expect(lines.find('a')).toEqual(files[1]);
    expect(lines.find('c')).toBeUndefined();
    expect(lines.deleted).toEqual(['c']);
  });

  it('refuses text that is no manifest', () => {
    expect(() => ManifestLines.fromText(Buffer.from('{"files":'))).toThrow(SyntaxError);
    expect(() => ManifestLines.fromText(Buffer.from('{"source":"s"}'))).toThrow(/"files" array/);
  });
});

describe('PartFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-part-file-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'parts'));
  const counts = {
    webapp_files: 3,
    aalto_files: 0,
    events_in: 9,
    rows_in: 0,
    keystrokes: { webapp: 4, aalto: 0 },
    rejected: { webapp: { hold_zero: 1 }, aalto: {} },
    unknown_fields: {},
    files_decoded_as_latin1: [],
  };

  it('finds exactly the members and keys written, for every subset of the awkward names', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 200; round++) {
      const members = NAMES.filter(() => random() < 0.5).map((path, i) => ({
        size: i,
        path,
        sha256: `s${i}`,
      }));
      const keys = NAMES.filter(() => random() < 0.5).map((n) => `w:${n}`);
      const record: PartRecord = { id: 'part-000004', members, keys, counts };
      writePart(dir, record);
      const part = PartFile.read(dir, 'part-000004');
      expect(part, `round ${round}`).not.toBeNull();
      expect(part!.counts).toEqual(counts);
      for (const name of NAMES) {
        expect(part!.hasMember(name), `${round} member ${JSON.stringify(name)}`).toBe(
          members.some((m) => m.path === name),
        );
        expect(part!.hasKey(`w:${name}`), `${round} key ${JSON.stringify(name)}`).toBe(
          keys.includes(`w:${name}`),
        );
      }
      const back = part!.record();
      expect(new Set(back.keys)).toEqual(new Set(keys));
      expect(back.members.map((m) => JSON.stringify(m)).sort()).toEqual(
        members.map(({ path, ...rest }) => JSON.stringify({ path, ...rest })).sort(),
      );
    }
  });
});

describe('PartFile, a record bigger than its first read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-part-file-big-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'parts'));
  // 40,000 keys of 48 bytes: ~2 MB of keys, past the 1 MiB PartFile reads first.
  const keys = Array.from(
    { length: 40_000 },
    (_, i) => `w:${String(i).padStart(8, '0')}-${'k'.repeat(36)}`,
  );
  const members = ['webapp/a.json', 'webapp/b.json'].map((path) => ({
    path,
    size: 1,
    sha256: 'x',
  }));
  const counts = { webapp_files: 2 } as unknown as PartRecord['counts'];
  const file = join(dir, 'parts', 'part-000001.json');

  it('finds its keys and members, and reads back whole', () => {
    writePart(dir, { id: 'part-000001', members, keys, counts });
    const part = PartFile.read(dir, 'part-000001')!;
    expect(part).not.toBeNull();
    for (const key of [keys[0]!, keys[20_000]!, keys[39_999]!]) expect(part.hasKey(key)).toBe(true);
    expect(part.hasKey('w:zzz')).toBe(false);
    expect(part.hasMember('webapp/b.json')).toBe(true);
    expect(part.hasMember('webapp/c.json')).toBe(false);
    expect(part.record().keys).toHaveLength(40_000);
  });

  it('is no record when cut short, and says so when changed after its head was read', () => {
    writePart(dir, { id: 'part-000001', members, keys, counts });
    const text = readFileSync(file);
    writeFileSync(file, text.subarray(0, text.length - 2));
    expect(PartFile.read(dir, 'part-000001')).toBeNull();
    writeFileSync(file, text);
    const part = PartFile.read(dir, 'part-000001')!;
    writePart(dir, { id: 'part-000001', members, keys: keys.slice(1), counts });
    expect(() => part.hasMember('webapp/a.json')).toThrow(/changed while clean read it/);
  });
});

describe('PartLookup', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-part-lookup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'parts'));

  it('names the same holder by binary search and from records read whole, parts taken out or not', () => {
    const random = seededRandom(11);
    const ids = ['part-000000', 'part-000001', 'part-000002', 'part-000003'];
    // Each name in at most one part, as clean keeps them; expected holders from this plain map.
    const holder = new Map<string, string>();
    for (const name of NAMES) {
      const r = Math.floor(random() * (ids.length + 1));
      if (r < ids.length) holder.set(name, ids[r]!);
    }
    for (const id of ids) {
      const names = NAMES.filter((n) => holder.get(n) === id);
      const members = names.map((path) => ({ path, size: 1, sha256: 'x' }));
      const counts = { webapp_files: names.length } as unknown as PartRecord['counts'];
      writePart(dir, { id, members, keys: names.map((n) => `a:${n}`), counts });
    }
    const parts = ids.map((id) => PartFile.read(dir, id)!);
    for (const limit of [0, Number.POSITIVE_INFINITY]) {
      const lookup = new PartLookup(parts, limit);
      for (const name of NAMES) expect(lookup.holderOf(name)).toBe(holder.get(name));
      lookup.delete('part-000002');
      for (const name of NAMES) {
        const expected = holder.get(name) === 'part-000002' ? undefined : holder.get(name);
        expect(lookup.holderOf(name), `${limit} ${JSON.stringify(name)}`).toBe(expected);
        expect(lookup.ownerOf(`a:${name}`), `${limit} key ${JSON.stringify(name)}`).toBe(expected);
        expect(lookup.ownerOf(`w:${name}`)).toBeUndefined();
      }
    }
  });
});
