// The GCS server fixture, checked through the real @google-cloud/storage client: if the client
// accepts what the server answers on every path pipe uses, the remote suite's GCS run is honest.
// Expected checksums come from node:crypto (md5) and the RFC 3720 CRC32C test vector, not from
// the client's own code.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Storage, type Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Checksums } from './gcs-server/checksums.js';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';

let server: GcsServer;
let bucket: Bucket;

beforeAll(async () => {
  server = await startGcsServer(['proto']);
  bucket = new Storage({
    apiEndpoint: server.url,
    retryOptions: { maxRetries: 0, autoRetry: false },
  }).bucket('proto');
});
afterAll(async () => server.stop());

/** Deterministic, incompressible-looking bytes of a given length. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

async function requestsSince(count: number) {
  return (await server.requests()).slice(count);
}

describe('checksums', () => {
  it('computes the RFC 3720 CRC32C check value of "123456789" (0xE3069283)', () => {
    const sums = new Checksums();
    sums.update(Buffer.from('12345'));
    sums.update(Buffer.from('6789')); // split to prove the streaming state carries over
    const digest = sums.digest();
    expect(digest.crc32c).toBe(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64'));
    expect(digest.md5Hash).toBe(md5(Buffer.from('123456789')));
  });
});

describe('GCS server through the real client', () => {
  it('stores a multipart upload with generation, size and checksums the client validates', async () => {
    const before = (await server.requests()).length;
    const data = bytes(1000, 1);
    await bucket.file('multi/one').save(data, { resumable: false });
    const [meta] = await bucket.file('multi/one').getMetadata();
    expect(meta.size).toBe('1000'); // int64 fields travel as strings in the JSON API
    expect(meta.md5Hash).toBe(md5(data));
    expect(Number(meta.generation)).toBeGreaterThan(0);
    const inserts = (await requestsSince(before)).filter((r) => r.method === 'POST');
    expect(inserts.map((r) => r.query.uploadType)).toEqual(['multipart']);
    const [back] = await bucket.file('multi/one').download();
    expect(back.equals(data)).toBe(true);
  });

  it('takes a resumable upload in one request (Content-Range bytes 0-*/*)', async () => {
    const before = (await server.requests()).length;
    const data = bytes(300_000, 2);
    await bucket.file('resumable/single').save(data, { resumable: true });
    const log = await requestsSince(before);
    expect(log.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200', 'PUT 200']);
    expect(log[0]!.query.uploadType).toBe('resumable');
    const [back] = await bucket.file('resumable/single').download();
    expect(back.equals(data)).toBe(true);
  });

  it('takes a chunked resumable upload, answering 308 with Range until the last chunk', async () => {
    const before = (await server.requests()).length;
    const data = bytes(256 * 1024 * 2 + 1234, 3); // two full chunks and a short last one
    await new Promise<void>((resolve, reject) => {
      const stream = bucket
        .file('resumable/chunked')
        .createWriteStream({ resumable: true, chunkSize: 256 * 1024 });
      stream.on('error', reject).on('finish', resolve);
      stream.end(data);
    });
    const puts = (await requestsSince(before)).filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.status)).toEqual([308, 308, 200]);
    const [back] = await bucket.file('resumable/chunked').download();
    expect(back.equals(data)).toBe(true);
  });

  it('resumes a session: a status query reports the bytes persisted, the rest completes it', async () => {
    // Raw HTTP for the session, as the client does after a dropped connection (it asks with
    // `bytes */*` and continues after the Range it gets), then the real client reads the result.
    const file = bucket.file('resumable/resumed');
    const [uri] = await file.createResumableUpload();
    const data = bytes(256 * 1024 + 5000, 5);
    const head = data.subarray(0, 256 * 1024);
    const first = await fetch(uri, {
      method: 'PUT',
      headers: { 'Content-Range': `bytes 0-${head.length - 1}/*` },
      body: head,
    });
    expect([first.status, first.headers.get('range')]).toEqual([308, `bytes=0-${head.length - 1}`]);
    const status = await fetch(uri, { method: 'PUT', headers: { 'Content-Range': 'bytes */*' } });
    expect([status.status, status.headers.get('range')]).toEqual([
      308,
      `bytes=0-${head.length - 1}`,
    ]);
    const rest = data.subarray(head.length);
    const last = await fetch(uri, {
      method: 'PUT',
      headers: { 'Content-Range': `bytes ${head.length}-${data.length - 1}/${data.length}` },
      body: rest,
    });
    expect(last.status).toBe(200);
    expect(((await last.json()) as { md5Hash: string }).md5Hash).toBe(md5(data));
    const [back] = await file.download();
    expect(back.equals(data)).toBe(true);
  });

  it('answers 412 to create-only on an existing object: .code on simple uploads', async () => {
    await bucket.file('exists/a').save('first', { resumable: false });
    const error = await bucket
      .file('exists/a')
      .save('second', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })
      .catch((e: unknown) => e);
    expect((error as { code?: unknown }).code).toBe(412);
    const [back] = await bucket.file('exists/a').download();
    expect(back.toString()).toBe('first');
  });

  it('answers 412 to create-only on an existing object: .status on resumable uploads', async () => {
    await bucket.file('exists/b').save('first', { resumable: false });
    const error = await bucket
      .file('exists/b')
      .save('second', { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } })
      .catch((e: unknown) => e);
    expect((error as { status?: unknown }).status).toBe(412);
    const [back] = await bucket.file('exists/b').download();
    expect(back.toString()).toBe('first');
  });

  it('re-checks preconditions when a resumable upload finishes (someone created it meanwhile)', async () => {
    const file = bucket.file('exists/late');
    const [uri] = await file.createResumableUpload({ preconditionOpts: { ifGenerationMatch: 0 } });
    await file.save('the other writer', { resumable: false });
    const error = await file.save('late writer', { resumable: true, uri }).catch((e: unknown) => e);
    expect((error as { code?: unknown }).code).toBe(412);
    const [back] = await file.download();
    expect(back.toString()).toBe('the other writer');
  });

  it('honours generation and metageneration preconditions on get and delete, and 404s with the JSON shape', async () => {
    const file = bucket.file('cond/x');
    await file.save('x', { resumable: false });
    const [meta] = await file.getMetadata();
    const wrong = String(BigInt(meta.generation as string) + 1n);
    const getError = await file.getMetadata({ ifGenerationMatch: wrong }).catch((e: unknown) => e);
    expect((getError as { code?: unknown }).code).toBe(412);
    const metaError = await file
      .getMetadata({ ifMetagenerationMatch: '2' })
      .catch((e: unknown) => e);
    expect((metaError as { code?: unknown }).code).toBe(412); // a fresh object is metageneration 1
    expect((await file.getMetadata({ ifMetagenerationMatch: '1' }))[0].metageneration).toBe('1');
    const deleteError = await file.delete({ ifGenerationMatch: wrong }).catch((e: unknown) => e);
    expect((deleteError as { code?: unknown }).code).toBe(412);
    await file.delete({ ifGenerationMatch: meta.generation as string });
    const missing = await file.getMetadata().catch((e: unknown) => e);
    expect((missing as { code?: unknown }).code).toBe(404);
    expect((missing as Error).message).toContain('No such object: proto/cond/x');
  });

  it('sends x-goog-hash on downloads, and the client rejects bytes that do not match it', async () => {
    const data = bytes(5000, 4);
    const file = bucket.file('hash/victim');
    await file.save(data, { resumable: false });
    const [meta] = await file.getMetadata();
    const handle = await open(server.dataFile(String(meta.generation)), 'r+');
    await handle.write(Buffer.from([data[10]! ^ 0xff]), 0, 1, 10); // one flipped byte on "disk"
    await handle.close();
    const error = await file.download().catch((e: unknown) => e);
    expect((error as { code?: unknown }).code).toBe('CONTENT_DOWNLOAD_MISMATCH');
  });

  it('serves Range requests', async () => {
    const file = bucket.file('range/r');
    await file.save('0123456789', { resumable: false });
    const chunks: Buffer[] = [];
    for await (const chunk of file.createReadStream({ start: 2, end: 5 }))
      chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('2345');
  });

  it('lists with prefix, delimiter and page tokens', async () => {
    for (const name of ['list/a', 'list/b', 'list/sub/c', 'list/sub/d', 'list/z', 'other/x']) {
      await bucket.file(name).save(name, { resumable: false });
    }
    const names: string[] = [];
    const prefixes: string[] = [];
    let pages = 0;
    let query: object | null = {
      prefix: 'list/',
      delimiter: '/',
      autoPaginate: false,
      maxResults: 2,
    };
    while (query !== null) {
      const [files, next, response] = (await bucket.getFiles(query)) as unknown as [
        { name: string }[],
        object | null,
        { prefixes?: string[] },
      ];
      names.push(...files.map((f) => f.name));
      prefixes.push(...(response.prefixes ?? []));
      query = next ?? null;
      pages += 1;
    }
    // Entries in name order: list/a, list/b | list/sub/ (prefix), list/z -> 2 pages of 2.
    expect(names).toEqual(['list/a', 'list/b', 'list/z']);
    expect(prefixes).toEqual(['list/sub/']);
    expect(pages).toBe(2);
  });
});
