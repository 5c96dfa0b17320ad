// The Remote contract on gs:// through the real @google-cloud/storage client, against the GCS
// JSON API server fixture (test/gcs-server/) reached via apiEndpoint. Pages are forced to 10
// objects so listing crosses pages. Plus what only a bucket can get wrong.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open as openFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { openRemote } from '../lib/remote/open.js';
import type { Remote, RemoteOptions } from '../lib/remote/remote.js';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';
import { remoteSuite } from './remote-suite.js';

const BUCKET = 'pipe-suite';

async function open(url: string, options: RemoteOptions): Promise<Remote> {
  const opened = await openRemote(url, options);
  if (!opened.ok) throw new Error(opened.error);
  return opened.value;
}

remoteSuite('gs:// (GCS server fixture)', async () => {
  const server = await startGcsServer([BUCKET]);
  const options: RemoteOptions = {
    workspace: tmpdir(),
    gcsEndpoint: server.url,
    listPageSize: 10,
    maxRetries: 0,
  };
  const raw = new Storage({ apiEndpoint: server.url }).bucket(BUCKET);
  return {
    remote: await open(`gs://${BUCKET}/team/store`, options),
    twin: await open(`gs://${BUCKET}/team/store/`, options),
    neighbour: await open(`gs://${BUCKET}/team/store-other`, options),
    async replaceObjectBytes(sha, bytes) {
      // An overwrite without preconditions: the service's checksums match the new bytes, so only
      // the sha256 check can notice.
      await raw
        .file(`team/store/objects/${sha.slice(0, 2)}/${sha}`)
        .save(bytes, { resumable: false });
    },
    putRaw: (key, text) => raw.file(`team/store/${key}`).save(text, { resumable: false }),
    rawRefKey: (ref) => `refs/${ref}.json`,
    async listRequests() {
      return (await server.requests()).filter(
        (r) => r.method === 'GET' && r.path.endsWith(`/b/${BUCKET}/o`),
      ).length;
    },
    cleanup: () => server.stop(),
  };
});

describe('gs:// remote specifics (GCS server fixture)', () => {
  let server: GcsServer;
  let scratch: string;
  beforeAll(async () => {
    server = await startGcsServer([BUCKET]);
    scratch = await mkdtemp(join(tmpdir(), 'remote-gcs-'));
  });
  afterAll(async () => {
    await server.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  async function file(bytes: Buffer) {
    const path = join(scratch, randomBytes(6).toString('hex'));
    await writeFile(path, bytes);
    return {
      path,
      sha: createHash('sha256').update(bytes).digest('hex') as Sha256Hex,
      size: bytes.length,
    };
  }

  it('uploads large objects resumably, and aborts one whose bytes do not match before it lands', async () => {
    const remote = await open(`gs://${BUCKET}/big`, {
      workspace: scratch,
      gcsEndpoint: server.url,
      maxRetries: 0,
    });
    const big = await file(randomBytes(9 * 1024 * 1024));
    const before = (await server.requests()).length;
    expect(await remote.putObject(big.sha, big.path, big.size)).toEqual({
      ok: true,
      value: 'stored',
    });
    const log = (await server.requests()).slice(before);
    expect(log.find((r) => r.method === 'POST')?.query.uploadType).toBe('resumable');
    // A resumable re-put meets 412 when the session opens (reported as .status): still success.
    expect(await remote.putObject(big.sha, big.path, big.size)).toEqual({
      ok: true,
      value: 'present',
    });
    const wrongName = createHash('sha256').update('not these bytes').digest('hex') as Sha256Hex;
    expect(await remote.putObject(wrongName, big.path, big.size)).toMatchObject({
      ok: false,
      error: { kind: 'corrupt' },
    });
    expect(await remote.hasObjects([wrongName])).toEqual({ ok: true, value: new Set() });
  });

  it('reports bytes damaged on the service (checksum mismatch in transit) as corrupt, writing nothing', async () => {
    const remote = await open(`gs://${BUCKET}/flip`, {
      workspace: scratch,
      gcsEndpoint: server.url,
      maxRetries: 0,
    });
    const a = await file(randomBytes(4096));
    await remote.putObject(a.sha, a.path, a.size);
    const [meta] = await new Storage({ apiEndpoint: server.url })
      .bucket(BUCKET)
      .file(`flip/objects/${a.sha.slice(0, 2)}/${a.sha}`)
      .getMetadata();
    const handle = await openFile(server.dataFile(String(meta.generation)), 'r+');
    await handle.write(Buffer.from('X'), 0, 1, 100);
    await handle.close();
    const dest = join(scratch, 'flipped', 'out.bin');
    const result = await remote.getObject(a.sha, dest);
    expect(result).toMatchObject({
      ok: false,
      error: { kind: 'corrupt', what: `object ${a.sha}` },
    });
    expect(await readdir(join(scratch, 'flipped'))).toEqual([]);
  });

  it('reports an upload the service stored differently as corrupt, and the object is gone', async () => {
    const remote = await open(`gs://${BUCKET}/badstore`, {
      workspace: scratch,
      gcsEndpoint: server.url,
      maxRetries: 0,
    });
    for (const size of [2000, 9 * 1024 * 1024]) {
      // Small: multipart; large: resumable. The client compares the service's md5 with its own.
      const a = await file(randomBytes(size));
      await server.corruptNextUpload(`badstore/objects/${a.sha.slice(0, 2)}/${a.sha}`);
      expect(await remote.putObject(a.sha, a.path, a.size)).toMatchObject({
        ok: false,
        error: { kind: 'corrupt', what: `object ${a.sha} on upload` },
      });
      expect(await remote.hasObjects([a.sha])).toEqual({ ok: true, value: new Set() });
      expect(await remote.putObject(a.sha, a.path, a.size)).toEqual({ ok: true, value: 'stored' }); // a retry succeeds
    }
  });

  it('honours STORAGE_EMULATOR_HOST when no endpoint is configured', async () => {
    const saved = process.env.STORAGE_EMULATOR_HOST;
    process.env.STORAGE_EMULATOR_HOST = server.url;
    try {
      const remote = await open(`gs://${BUCKET}/emulated`, { workspace: scratch, maxRetries: 0 });
      const a = await file(randomBytes(100));
      expect(await remote.putObject(a.sha, a.path, a.size)).toEqual({ ok: true, value: 'stored' });
      expect(await remote.hasObjects([a.sha])).toEqual({ ok: true, value: new Set([a.sha]) });
    } finally {
      if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
      else process.env.STORAGE_EMULATOR_HOST = saved;
    }
  });

  it('says a server that is not there is unreachable, without throwing', async () => {
    const remote = await open(`gs://${BUCKET}/x`, {
      workspace: scratch,
      gcsEndpoint: 'http://127.0.0.1:9',
      maxRetries: 0,
    });
    expect(await remote.listVersions()).toMatchObject({
      ok: false,
      error: { kind: 'unreachable', remote: `gs://${BUCKET}/x` },
    });
  });

  it('finds objects with a few list requests, not one request per object', async () => {
    const remote = await open(`gs://${BUCKET}/many`, {
      workspace: scratch,
      gcsEndpoint: server.url,
      maxRetries: 0,
    });
    const files = await Promise.all(Array.from({ length: 300 }, () => file(randomBytes(32))));
    await Promise.all(files.map((f) => remote.putObject(f.sha, f.path, f.size)));
    const before = (await server.requests()).length;
    const present = await remote.hasObjects(files.map((f) => f.sha));
    expect(present.ok && present.value.size).toBe(300);
    expect((await server.requests()).length - before).toBe(1); // 300 names fit one page of 1000
  });
});
