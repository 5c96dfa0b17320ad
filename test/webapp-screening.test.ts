// Web-app screening split over worker threads (stages/shared/webapp-screening.ts) must decide exactly
// as one pass in path order: the first upload of a session wins even when its duplicate was checked
// by another thread, and unknown fields are counted in kept files only, keys in first-seen order.
// The expected verdicts are written out by hand from the files this test makes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenWebappUploads } from '../stages/shared/webapp-screening.js';
import { REPO } from './helpers/run-stage.js';

const SCHEMA = join(REPO, 'config/upload.schema.json');
const CLIENT = { user_agent: 'test', device: 'desktop', keyboard_layout: 'en-US' };
const EVENT = {
  t: 1,
  type: 'down',
  key: 'a',
  code: 'KeyA',
  keyCode: 65,
  repeat: false,
  composing: false,
};
const upload = (session: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    session_id: session,
    user_id: 'u1',
    prompt: 'ab',
    text: 'ab',
    client: CLIENT,
    time_origin: 1000,
    events: [EVENT],
    ...extra,
  });
// Unknown fields inside the client object and inside events; `client` and `events` keep their place
// in the document's key order when the spread replaces them, so they come before zz and ab_bucket.
const nested = {
  client: { ...CLIENT, x: 1 },
  events: [
    { ...EVENT, location: 0 },
    { ...EVENT, type: 'up', location: 0 },
  ],
};

// Sorted by path, as clean lists them. Index: verdict.
const FILES: [string, string | Buffer][] = [
  ['webapp/a.session.json', upload('S1')], //                          0: kept
  ['webapp/b.session.json', upload('S2', { ab_bucket: 'x' })], //       1: kept, unknown ab_bucket
  ['webapp/c.session.json', '{"session_id": "S9", "events": ['], //     2: truncated_json
  ['webapp/d.session.json', upload('S1')], //                          3: duplicate of a (same bytes)
  ['webapp/e.session.json.gz', gzipSync(upload('S3', { ...nested, zz: 1, ab_bucket: 'y' }))], // 4: kept, unknown client.x, events[].location (twice), zz, ab_bucket
  ['webapp/f.session.json', upload('S2', { ab_bucket: 'z', other: 1 })], // 5: conflict with b: its unknown fields not counted
  ['webapp/g.session.json', '{"user_id": "u1"}'], //                   6: schema_mismatch
  // 7: kept, unknown fields named like Object.prototype's members (counted like any other).
  [
    'webapp/h.session.json',
    upload('S4').replace(/^\{/, '{"constructor": 1, "__proto__": {"a": 1}, "toString": "x", '),
  ],
];

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'webapp-screening-'));
  mkdirSync(join(root, 'raw/webapp'), { recursive: true });
  for (const [path, body] of FILES) writeFileSync(join(root, 'raw', path), body);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function screen(slices: number) {
  const staging = join(root, `staging-${slices}`);
  mkdirSync(staging);
  const result = await screenWebappUploads(
    join(root, 'raw'),
    FILES.map(([p]) => p),
    SCHEMA,
    { maxUploadBytes: 2 ** 24, maxDecompressedBytes: 2 ** 24 },
    staging,
    slices,
  );
  const lines = (paths: string[]) =>
    paths
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      )
      .map((l) => JSON.parse(l) as unknown);
  const staged = lines(result.staged.files) as {
    file_id: number;
    source_file: string;
    session_id: string;
  }[];
  const documents = lines(result.staged.events) as {
    file_id: number;
    upload: { session_id: string; events: unknown[] };
  }[];
  expect(documents.map((d) => [d.file_id, d.upload.session_id])).toEqual(
    staged.map((s) => [s.file_id, s.session_id]),
  );
  return { result, staged };
}

describe('web-app screening over worker threads', () => {
  it.each([1, 2, 3])('with %i slice(s) decides as one pass in path order', async (slices) => {
    const { result, staged } = await screen(slices);
    expect(result.staged.files).toHaveLength(slices);
    expect(
      result.rejects.map((r) => [
        r.rule,
        r.sourceFile,
        r.sessionId,
        r.detail.replace(/ \(.*$/s, ''),
      ]),
    ).toEqual([
      ['truncated_json', 'webapp/c.session.json', null, expect.any(String)],
      ['duplicate_upload', 'webapp/d.session.json', 'S1', 'same content as webapp/a.session.json'],
      [
        'session_id_conflict',
        'webapp/f.session.json',
        'S2',
        'other content than webapp/b.session.json',
      ],
      [
        'schema_mismatch',
        'webapp/g.session.json',
        null,
        "/ must have required property 'session_id'",
      ],
    ]);
    // Key order matters: summary.json is hashed into pipeline.lock. First seen: ab_bucket in b, then
    // e's in its key order (client.x, events[].location, zz; ab_bucket seen already), then h's.
    expect(Object.entries(result.unknownFields)).toEqual([
      ['ab_bucket', 2],
      ['client.x', 1],
      ['events[].location', 2],
      ['zz', 1],
      ['constructor', 1],
      ['__proto__', 1],
      ['toString', 1],
    ]);
    expect(result.superseded).toEqual([3, 5]);
    expect(result.events).toBe(5); // one event in each kept file (a, b, h), two in e
    // Every valid document is staged with its index in the sorted list; clean's load drops the superseded.
    expect(staged.map((s) => [s.file_id, s.source_file, s.session_id])).toEqual([
      [0, 'webapp/a.session.json', 'S1'],
      [1, 'webapp/b.session.json', 'S2'],
      [3, 'webapp/d.session.json', 'S1'],
      [4, 'webapp/e.session.json.gz', 'S3'],
      [5, 'webapp/f.session.json', 'S2'],
      [7, 'webapp/h.session.json', 'S4'],
    ]);
  });
});
