// The GCS server fixture's listing parameters (startOffset, endOffset, fields) through the real
// @google-cloud/storage client, and its fixture calls (bulk objects, injected faults, latency)
// over plain HTTP. Expected names are the ones created here, filtered and sorted by this file.
import { Storage, type Bucket, type GetFilesOptions } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';

let server: GcsServer;
let bucket: Bucket;
const NAMES = ['p/a', 'p/a/b', 'p/b', 'p/bb', 'p/c', 'p/é', 'p/😀', 'q/a'];

beforeAll(async () => {
  server = await startGcsServer(['fixtures']);
  bucket = new Storage({
    apiEndpoint: server.url,
    retryOptions: { autoRetry: false, maxRetries: 0 },
  }).bucket('fixtures');
  await server.bulkCreate('fixtures', NAMES, 'xyz');
});
afterAll(async () => server.stop());

const namesOf = async (options: GetFilesOptions) =>
  (await bucket.getFiles(options))[0].map((f) => f.name);

describe('listing parameters', () => {
  it('bounds a listing by startOffset (inclusive) and endOffset (exclusive)', async () => {
    expect(await namesOf({ prefix: 'p/', startOffset: 'p/a/b', endOffset: 'p/c' })).toEqual([
      'p/a/b',
      'p/b',
      'p/bb',
    ]);
    expect(await namesOf({ prefix: 'p/', startOffset: 'p/bb' })).toEqual([
      'p/bb',
      'p/c',
      'p/é',
      'p/😀',
    ]);
    expect(await namesOf({ endOffset: 'p/b' })).toEqual(['p/a', 'p/a/b']);
  });

  it('pages within the bounds', async () => {
    const names: string[] = [];
    let query: GetFilesOptions | null = {
      prefix: 'p/',
      startOffset: 'p/b',
      maxResults: 2,
      autoPaginate: false,
    };
    let pages = 0;
    while (query !== null) {
      const [files, next] = (await bucket.getFiles(query)) as unknown as [
        Array<{ name: string }>,
        GetFilesOptions | null,
      ];
      names.push(...files.map((f) => f.name));
      query = next;
      pages++;
    }
    expect(names).toEqual(['p/b', 'p/bb', 'p/c', 'p/é', 'p/😀']);
    expect(pages).toBe(3);
  });

  it('answers fields with a partial response, nested selections included', async () => {
    const url = `${server.url}/storage/v1/b/fixtures/o?prefix=q/&fields=items(name,size),kind`;
    const body = await (await fetch(url)).json();
    expect(body).toEqual({ kind: 'storage#objects', items: [{ name: 'q/a', size: '3' }] });
    const bad = await fetch(`${server.url}/storage/v1/b/fixtures/o?fields=items(name`);
    expect(bad.status).toBe(400);
  });

  it('gives bulk objects their content, size and checksums', async () => {
    const [data] = await bucket.file('q/a').download({ validation: 'md5' });
    expect(data.toString()).toBe('xyz');
  });
});

describe('fixture calls', () => {
  it('fails the next requests that match, as many as asked, then answers again', async () => {
    await server.injectFailure({ path: '^/storage/v1/b/fixtures/o\\?', mode: '429', count: 2 });
    const url = `${server.url}/storage/v1/b/fixtures/o?prefix=q/`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(url)).status);
    expect(statuses).toEqual([429, 429, 200]);
  });

  it('matches the method: a rule for POST leaves a GET alone', async () => {
    await server.injectFailure({ path: 'fixtures', mode: '503', method: 'POST' });
    expect((await fetch(`${server.url}/storage/v1/b/fixtures`)).status).toBe(200);
    await bucket
      .file('p/posted')
      .save('x', { resumable: false })
      .catch(() => undefined);
    const last = (await server.requests()).filter((r) => r.method === 'POST').at(-1);
    expect(last?.status).toBe(503);
  });

  it('drops the connection unanswered', async () => {
    await server.injectFailure({ path: '^/storage/v1/b/fixtures\\b', mode: 'drop' });
    await expect(fetch(`${server.url}/storage/v1/b/fixtures`)).rejects.toThrow();
    expect((await server.requests()).at(-1)).toMatchObject({ status: 0 });
  });

  it('cuts a body short after half its declared length', async () => {
    await server.injectFailure({ path: '^/storage/v1/b/fixtures/o\\?', mode: 'truncate' });
    const response = await fetch(`${server.url}/storage/v1/b/fixtures/o?prefix=p/`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('adds latency each way to every request', async () => {
    const url = `${server.url}/storage/v1/b/fixtures`;
    await server.setLatency(60);
    const start = performance.now();
    await (await fetch(url)).arrayBuffer();
    const slow = performance.now() - start;
    await server.setLatency(0);
    expect(slow).toBeGreaterThanOrEqual(120);
  });
});
