// listGcsPrefix (lib/observe/gcs-listing.ts) against the GCS test server as a real child process,
// with objects written and deleted through the real @google-cloud/storage client. Expected values
// come from elsewhere: the names a test created (sorted here by code units), md5 of the bytes by
// node:crypto, generations as the client reads them back with getMetadata.
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { Storage, type Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listGcsPrefix, type ListedObject } from '../lib/observe/gcs-listing.js';
import { parsePage } from '../lib/observe/gcs-page.js';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';

const BUCKET = 'uploads-test';
let server: GcsServer;
let bucket: Bucket;

beforeAll(async () => {
  server = await startGcsServer([BUCKET]);
  bucket = new Storage({
    apiEndpoint: server.url,
    retryOptions: { autoRetry: false, maxRetries: 0 },
  }).bucket(BUCKET);
});
afterAll(async () => server.stop());

const md5 = (text: string) => createHash('md5').update(text).digest('base64');
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function list(prefix: string, options: Parameters<typeof listGcsPrefix>[1] = {}) {
  const result = await listGcsPrefix(`gs://${BUCKET}/${prefix}`, {
    endpoint: server.url,
    ...options,
  });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

async function listRequestsDuring(run: () => Promise<unknown>) {
  const before = (await server.requests()).length;
  await run();
  return (await server.requests())
    .slice(before)
    .filter((r) => r.method === 'GET' && r.path === `/storage/v1/b/${BUCKET}/o`);
}

async function identityOf(name: string): Promise<Omit<ListedObject, 'path'>> {
  const [meta] = await bucket.file(name).getMetadata();
  return {
    size: Number(meta.size),
    generation: String(meta.generation),
    md5: String(meta.md5Hash),
    crc32c: String(meta.crc32c),
  };
}

describe('listGcsPrefix sees what changed', () => {
  it('a new object, a replaced object (new generation) and a deleted object', async () => {
    await bucket.file('changes/a.session.json').save('{"a":1}', { resumable: false });
    await bucket.file('changes/u1/b.session.json').save('{"b":1}', { resumable: false });
    await bucket.file('changes-elsewhere/c.json').save('{}', { resumable: false }); // not under it
    const first = await list('changes');
    expect(first).toEqual([
      { path: 'a.session.json', ...(await identityOf('changes/a.session.json')) },
      { path: 'u1/b.session.json', ...(await identityOf('changes/u1/b.session.json')) },
    ]);
    expect(first[0]!.md5).toBe(md5('{"a":1}'));

    await bucket.file('changes/new.session.json').save('{"new":1}', { resumable: false });
    const added = await list('changes/');
    expect(added.map((o) => o.path)).toEqual([
      'a.session.json',
      'new.session.json',
      'u1/b.session.json',
    ]);
    expect(added[1]).toEqual({
      path: 'new.session.json',
      ...(await identityOf('changes/new.session.json')),
    });

    // Replaced with the same bytes: only the generation tells.
    await bucket.file('changes/a.session.json').save('{"a":1}', { resumable: false });
    const replaced = await list('changes');
    expect(replaced[0]!.md5).toBe(first[0]!.md5);
    expect(replaced[0]!.generation).not.toBe(first[0]!.generation);
    expect(replaced[0]!.generation).toBe((await identityOf('changes/a.session.json')).generation);
    expect(replaced.slice(1)).toEqual(added.slice(1));

    await bucket.file('changes/u1/b.session.json').delete();
    expect((await list('changes')).map((o) => o.path)).toEqual([
      'a.session.json',
      'new.session.json',
    ]);
  });

  it('asks only for the fields it keeps, in pages of 1000', async () => {
    const requests = await listRequestsDuring(() => list('changes'));
    expect(requests.length).toBe(1);
    expect(requests[0]!.query).toMatchObject({
      prefix: 'changes/',
      maxResults: '1000',
      fields: 'items(name,generation,size,md5Hash,crc32c),nextPageToken',
    });
  });

  it('lists an empty prefix as no objects, and a whole bucket from gs://bucket', async () => {
    expect(await list('nothing-here')).toEqual([]);
    const all = await list('');
    expect(all.map((o) => o.path)).toContain('changes-elsewhere/c.json');
  });
});

describe('listGcsPrefix across pages', () => {
  const names = Array.from(
    { length: 2500 },
    (_, k) =>
      `many/user-${String(k % 97).padStart(3, '0')}/${(k * 7919).toString(36)}.session.json`,
  );
  const expected = names.map((n) => n.slice('many/'.length)).sort(byCodeUnits);
  beforeAll(async () => server.bulkCreate(BUCKET, names, '{"s":1}'));

  it('lists 2,500 objects in pages of 1000 one after another (concurrency 1): 3 requests', async () => {
    let listed: readonly ListedObject[] = [];
    const requests = await listRequestsDuring(async () => {
      listed = await list('many', { concurrency: 1 });
    });
    expect(listed.map((o) => o.path)).toEqual(expected);
    expect(new Set(listed.map((o) => o.size))).toEqual(new Set([7]));
    expect(new Set(listed.map((o) => o.md5))).toEqual(new Set([md5('{"s":1}')]));
    expect(requests.length).toBe(3);
    expect(requests.filter((r) => r.query.pageToken !== undefined).length).toBe(2);
  });

  it.each([
    [1000, 8],
    [50, 8],
    [7, 32],
  ])(
    'lists the same with pages of %i and %i in flight, cutting the key space',
    async (pageSize, concurrency) => {
      let listed: readonly ListedObject[] = [];
      const requests = await listRequestsDuring(async () => {
        listed = await list('many', { pageSize, concurrency });
      });
      expect(listed.map((o) => o.path)).toEqual(expected);
      expect(requests.every((r) => r.query.maxResults === String(pageSize))).toBe(true);
      // The key space was cut: ranges beyond the first carry their own startOffset.
      const starts = new Set(
        requests.map((r) => r.query.startOffset).filter((s) => s !== undefined),
      );
      expect(starts.size).toBeGreaterThan(3);
    },
  );
});

describe('listGcsPrefix with compressed answers', () => {
  it('asks for gzip and unpacks it, as GCS answers when asked', async () => {
    const created = Array.from(
      { length: 2500 },
      (_, k) => `zipped/${(k * 7919).toString(36)}.json`,
    );
    await server.bulkCreate(BUCKET, created);
    await server.setGzip(true);
    try {
      const probe = await fetch(`${server.url}/storage/v1/b/${BUCKET}/o?prefix=zipped/`, {
        headers: { 'Accept-Encoding': 'gzip' },
      });
      expect(probe.headers.get('content-encoding')).toBe('gzip'); // the server did compress
      await probe.arrayBuffer();
      const listed = await list('zipped', { concurrency: 4 });
      const names = created.map((n) => n.slice('zipped/'.length)).sort(byCodeUnits);
      expect(listed.map((o) => o.path)).toEqual(names);
    } finally {
      await server.setGzip(false);
    }
  });
});

describe('listGcsPrefix cuts ranges without gaps or duplicates', () => {
  const CHARS = [
    'a',
    'b',
    'z',
    '0',
    '9',
    '-',
    '.',
    '/',
    'é',
    '日',
    '\ud7ff',
    '\ue000',
    '\uffff',
    '😀',
  ];

  function randomNames(seed: number, count: number): string[] {
    let x = seed;
    const next = () => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x / 2 ** 32;
    };
    const out = new Set<string>();
    while (out.size < count) {
      let name = '';
      const length = 1 + Math.floor(next() * 5);
      for (let i = 0; i < length; i++) name += CHARS[Math.floor(next() * CHARS.length)];
      out.add(name);
    }
    return [...out];
  }

  it.each([1, 2, 3])(
    'seed %i: multi-byte names, names that are prefixes of others, and names at the cuts used',
    async (seed) => {
      const prefix = `cuts-${seed}/`;
      const names = randomNames(seed, 400);
      await server.bulkCreate(
        BUCKET,
        names.map((n) => prefix + n),
      );
      // Tiny pages and many in flight: the lister cuts the rest of a range at nearly every page.
      const options = { pageSize: 3, concurrency: 24 } as const;
      const requests = await listRequestsDuring(async () => {
        const listed = await list(prefix, options);
        expect(listed.map((o) => o.path)).toEqual([...names].sort(byCodeUnits));
      });
      const cuts = [
        ...new Set(
          requests
            .flatMap((r) => [r.query.startOffset, r.query.endOffset])
            .filter((c) => c !== undefined),
        ),
      ];
      expect(cuts.length).toBeGreaterThan(20);
      // Names exactly at the cuts of that run, and just below and above them, then again.
      // Sliced by code points: half a surrogate pair is no object name.
      const around = cuts.flatMap((cut) => [
        cut,
        [...cut].slice(0, -1).join(''),
        `${cut}\u0001`,
        `${cut}é`,
      ]);
      const added = around
        .filter((n) => n.length > prefix.length)
        .map((n) => n.slice(prefix.length));
      await server.bulkCreate(
        BUCKET,
        added.map((n) => prefix + n),
      );
      const all = [...new Set([...names, ...added])].sort(byCodeUnits);
      const again = await list(prefix, options);
      expect(again.map((o) => o.path)).toEqual(all);
    },
  );
});

describe('listGcsPrefix never answers a partial listing', () => {
  beforeAll(async () =>
    server.bulkCreate(
      BUCKET,
      Array.from({ length: 30 }, (_, k) => `faulty/${String(k).padStart(2, '0')}.json`),
    ),
  );
  const LIST = `^/storage/v1/b/${BUCKET}/o\\?`;

  it('retries a 503 and a 429 within its retries and lists everything', async () => {
    await server.injectFailure({ path: LIST, mode: '503', count: 2 });
    await server.injectFailure({ path: LIST, mode: '429', count: 1 });
    const requests = await listRequestsDuring(async () => {
      expect((await list('faulty', { maxRetries: 3 })).length).toBe(30);
    });
    expect(requests.map((r) => r.status)).toEqual([503, 503, 429, 200]);
  });

  it('fails with the URL and the cause when a 503 outlasts the retries', async () => {
    await server.injectFailure({ path: LIST, mode: '503', count: 3 });
    const result = await listGcsPrefix(`gs://${BUCKET}/faulty`, {
      endpoint: server.url,
      maxRetries: 2,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toContain(`gs://${BUCKET}/faulty/`);
    expect(result.error).toContain('HTTP 503: injected 503');
    expect(result.error).toContain('3 attempts');
  });

  it('fails when a later page fails, though the first succeeded', async () => {
    await server.injectFailure({ path: `${LIST}.*pageToken=`, mode: '503', count: 2 });
    const result = await listGcsPrefix(`gs://${BUCKET}/faulty`, {
      endpoint: server.url,
      pageSize: 10,
      concurrency: 1,
      maxRetries: 1,
    });
    expect(result).toEqual({ ok: false, error: expect.stringContaining('HTTP 503') });
  });

  it('fails on dropped connections beyond the retries, and retries one', async () => {
    await server.injectFailure({ path: LIST, mode: 'drop', count: 2 });
    const result = await listGcsPrefix(`gs://${BUCKET}/faulty`, {
      endpoint: server.url,
      maxRetries: 1,
    });
    expect(result).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^cannot list gs:\/\/uploads-test\/faulty\/ .*connection failed/,
      ),
    });
    await server.injectFailure({ path: LIST, mode: 'drop', count: 1 });
    expect((await list('faulty', { maxRetries: 1 })).length).toBe(30);
  });

  it('fails on a body cut short beyond the retries', async () => {
    await server.injectFailure({ path: LIST, mode: 'truncate', count: 2 });
    const result = await listGcsPrefix(`gs://${BUCKET}/faulty`, {
      endpoint: server.url,
      maxRetries: 1,
    });
    expect(result).toEqual({
      ok: false,
      error: expect.stringMatching(/answer ended after \d+ of \d+ bytes/),
    });
  });

  it('fails on a missing bucket, an unreachable endpoint, an aborted signal and a bad URL', async () => {
    const missing = await listGcsPrefix('gs://no-such-bucket/x', { endpoint: server.url });
    expect(missing).toEqual({
      ok: false,
      error: expect.stringMatching(/gs:\/\/no-such-bucket\/x\/.*HTTP 404: .*bucket does not exist/),
    });
    const closedPort = await freePort();
    const unreachable = await listGcsPrefix(`gs://${BUCKET}/faulty`, {
      endpoint: `http://127.0.0.1:${closedPort}`,
      maxRetries: 1,
    });
    expect(unreachable).toEqual({ ok: false, error: expect.stringContaining('ECONNREFUSED') });
    const aborted = await listGcsPrefix(`gs://${BUCKET}/faulty`, {
      endpoint: server.url,
      signal: AbortSignal.abort(new Error('status interrupted')),
    });
    expect(aborted).toEqual({
      ok: false,
      error: expect.stringContaining('aborted (status interrupted)'),
    });
    const bad = await listGcsPrefix('s3://bucket/x', { endpoint: server.url });
    expect(bad).toEqual({ ok: false, error: expect.stringContaining('is not gs://<bucket>') });
  });

  it('reads STORAGE_EMULATOR_HOST as a bare host:port when no endpoint is given', async () => {
    const saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = server.url.replace('http://', '');
    try {
      const result = await listGcsPrefix(`gs://${BUCKET}/faulty`);
      expect(result.ok && result.value.length).toBe(30);
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
    }
  });

  it('refuses a malformed page rather than reading what it can', () => {
    const item = { name: 'p/a', size: '1', generation: '5' };
    expect(parsePage(JSON.stringify({ items: [item] }), 'p/')).toEqual({
      items: [{ path: 'a', size: 1, generation: '5' }],
    });
    expect(parsePage('{"items": [', 'p/')).toMatch(/^not JSON/);
    expect(parsePage('[]', 'p/')).toBe('not a JSON object');
    expect(parsePage(JSON.stringify({ items: {} }), 'p/')).toBe('"items" is not a list');
    expect(parsePage(JSON.stringify({ items: [{ ...item, size: 1 }] }), 'p/')).toMatch(/size/);
    expect(parsePage(JSON.stringify({ items: [{ ...item, generation: 'x' }] }), 'p/')).toMatch(
      /generation/,
    );
    expect(parsePage(JSON.stringify({ items: [{ size: '1', generation: '5' }] }), 'p/')).toMatch(
      /name/,
    );
    expect(parsePage(JSON.stringify({ items: [], nextPageToken: 3 }), 'p/')).toMatch(
      /nextPageToken/,
    );
    expect(parsePage(JSON.stringify({ items: [{ ...item, name: 'q/a' }] }), 'p/')).toMatch(
      /not under p\//,
    );
  });
});

/** A port nothing listens on: bound, then closed again. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
