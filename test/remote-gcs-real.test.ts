// The Remote contract against a real bucket, keeping the GCS server fixture honest. Runs only
// when PIPE_TEST_GCS_BUCKET names a bucket and Application Default Credentials exist
// (GOOGLE_APPLICATION_CREDENTIALS, or `gcloud auth application-default login`). Everything is
// written under a fresh prefix (pipe-remote-suite/<random>/) and deleted afterwards.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { describe, it } from 'vitest';
import { openRemote } from '../lib/remote/open.js';
import type { Remote } from '../lib/remote/remote.js';
import { remoteSuite } from './remote-suite.js';

const bucketName = process.env.PIPE_TEST_GCS_BUCKET ?? '';
const hasCredentials =
  (process.env.GOOGLE_APPLICATION_CREDENTIALS ?? '') !== '' ||
  existsSync(join(homedir(), '.config', 'gcloud', 'application_default_credentials.json'));

if (bucketName === '' || !hasCredentials) {
  const why = `skipped: set PIPE_TEST_GCS_BUCKET (now ${bucketName === '' ? 'unset' : 'set'}) and Application Default Credentials (now ${hasCredentials ? 'found' : 'missing'}) to run the remote suite against a real bucket`;
  console.warn(`remote-gcs-real.test.ts ${why}`);
  describe('Remote contract: real GCS bucket', () => {
    it.skip(why, () => {});
  });
} else {
  const base = `pipe-remote-suite/${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const open = async (url: string): Promise<Remote> => {
    const opened = await openRemote(url, { workspace: tmpdir(), listPageSize: 10 });
    if (!opened.ok) throw new Error(opened.error);
    return opened.value;
  };
  remoteSuite(`gs://${bucketName} (real bucket)`, async () => {
    const raw = new Storage().bucket(bucketName);
    return {
      remote: await open(`gs://${bucketName}/${base}/store`),
      twin: await open(`gs://${bucketName}/${base}/store`),
      neighbour: await open(`gs://${bucketName}/${base}/other`),
      async replaceObjectBytes(sha, bytes) {
        await raw
          .file(`${base}/store/objects/${sha.slice(0, 2)}/${sha}`)
          .save(bytes, { resumable: false });
      },
      putRaw: (key, text) => raw.file(`${base}/store/${key}`).save(text, { resumable: false }),
      rawRefKey: (ref) => `refs/${ref}.json`,
      cleanup: () => raw.deleteFiles({ prefix: `${base}/`, force: true }),
    };
  });
}
