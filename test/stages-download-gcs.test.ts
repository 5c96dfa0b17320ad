// download from gs://bucket/prefix through the real @google-cloud/storage client, against the
// GCS JSON API server fixture (test/gcs-server/), reached the way users reach an emulator:
// STORAGE_EMULATOR_HOST. Incremental by generation + md5: an unchanged object is not downloaded.
import { createHash } from 'node:crypto';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';
import { runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const BUCKET = 'uploads-test';
const md5 = (text: string) => createHash('md5').update(text).digest('base64');

let server: GcsServer;
let ws: Workspace;
let env: Record<string, string>;
const bucket = () => new Storage({ apiEndpoint: server.url }).bucket(BUCKET);
const generation = async (name: string) =>
  String((await bucket().file(name).getMetadata())[0].generation);
const mediaGets = async () =>
  (await server.requests()).filter((r) => r.method === 'GET' && r.query.alt === 'media').length;

beforeAll(async () => {
  server = await startGcsServer([BUCKET]);
  ws = tempWorkspace();
  env = { UPLOADS_URL: `gs://${BUCKET}/team/in`, STORAGE_EMULATOR_HOST: server.url };
  for (const [name, text] of [
    ['team/in/a.session.json', '{"a":1}'],
    ['team/in/sub/7_keystrokes.txt', 'PARTICIPANT_ID\n'],
    ['team/in/readme.txt', 'not an upload'],
    ['team/in-other/b.session.json', 'outside the prefix'],
  ])
    await bucket().file(name!).save(text!, { resumable: false });
});
afterAll(async () => {
  await server.stop();
  ws.remove();
});

describe('download from gs://', () => {
  it('copies the uploads under the prefix and records md5, generation and size', async () => {
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(ws.json('data/raw/manifest.json')).toEqual({
      source: `gs://${BUCKET}/team/in`,
      count: 2,
      files: [
        {
          path: 'a.session.json',
          size: 7,
          md5: md5('{"a":1}'),
          generation: await generation('team/in/a.session.json'),
        },
        {
          path: 'sub/7_keystrokes.txt',
          size: 15,
          md5: md5('PARTICIPANT_ID\n'),
          generation: await generation('team/in/sub/7_keystrokes.txt'),
        },
      ],
      deleted: [],
    });
    expect(ws.read('data/raw/a.session.json')).toBe('{"a":1}');
    expect(await mediaGets()).toBe(2);
  });

  it('downloads nothing when no generation changed', async () => {
    const before = await mediaGets();
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.metrics).toEqual({ records: { uploads: 2, fetched: 0, reused: 2, deleted: 0 } });
    expect(await mediaGets()).toBe(before);
  });

  it('fetches a rewritten object (new generation) and lists a deleted one', async () => {
    await bucket().file('team/in/a.session.json').save('{"a":2}', { resumable: false });
    await bucket().file('team/in/sub/7_keystrokes.txt').delete();
    const before = await mediaGets();
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.metrics).toEqual({ records: { uploads: 1, fetched: 1, reused: 0, deleted: 1 } });
    expect(await mediaGets()).toBe(before + 1);
    expect(ws.read('data/raw/a.session.json')).toBe('{"a":2}');
    expect(ws.json('data/raw/manifest.json').deleted).toEqual(['sub/7_keystrokes.txt']);
  });

  it('also reaches the server through PIPE_GCS_ENDPOINT, as pipe push/pull do', () => {
    const run = runStage(ws.root, {
      ...STAGES.download,
      env: {
        UPLOADS_URL: env.UPLOADS_URL!,
        PIPE_GCS_ENDPOINT: server.url,
        STORAGE_EMULATOR_HOST: '',
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.metrics).toEqual({ records: { uploads: 1, fetched: 0, reused: 1, deleted: 1 } });
  });
});
