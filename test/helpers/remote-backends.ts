// The remotes the push/pull CLI scenarios run against: a file:// folder, the GCS JSON API server
// fixture (test/gcs-server/) through the real client, and a real bucket when PIPE_TEST_GCS_BUCKET
// and credentials are set. Each hands the CLI its settings as environment variables, and gives
// the test an independent view of the store (through lib/remote/remote.ts opened in-process) to check
// what actually landed there.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import type { Sha256Hex } from '../../lib/util/sha256.js';
import { openRemote } from '../../lib/remote/open.js';
import type { Remote } from '../../lib/remote/remote.js';
import { startGcsServer, type GcsServer, type LoggedRequest } from '../gcs-server/index.js';

export interface Store {
  /** Environment for `pipe` (PIPE_REMOTE, endpoint or credentials). */
  readonly env: Record<string, string>;
  /** The store opened in-process, as a teammate's pipe would. */
  readonly remote: Remote;
  /** Overwrites an object's bytes behind pipe's back (a bad disk). */
  corrupt(sha: Sha256Hex, bytes: Buffer): Promise<void>;
  /** Deletes every object behind pipe's back (a store wiped and recreated), keeping manifests. */
  wipeObjects(): Promise<void>;
  /** Requests the GCS fixture has answered so far (undefined for other backends). */
  requests?(): Promise<LoggedRequest[]>;
}

export interface Backend {
  readonly name: string;
  /** Why it is skipped, or undefined when it runs. */
  readonly skip?: string;
  start(): Promise<void>;
  /** A fresh, empty store. */
  store(): Promise<Store>;
  stop(): Promise<void>;
}

async function open(url: string, gcsEndpoint?: string): Promise<Remote> {
  const opened = await openRemote(url, {
    workspace: tmpdir(),
    ...(gcsEndpoint === undefined ? {} : { gcsEndpoint }),
  });
  if (!opened.ok) throw new Error(opened.error);
  return opened.value;
}

function fileBackend(): Backend {
  const made: string[] = [];
  return {
    name: 'file://',
    async start() {},
    async store() {
      const root = await mkdtemp(join(tmpdir(), 'pipe-store-'));
      made.push(root);
      return {
        env: { PIPE_REMOTE: `file://${root}` },
        remote: await open(`file://${root}`),
        corrupt: (sha, bytes) => writeFile(join(root, 'objects', sha.slice(0, 2), sha), bytes),
        wipeObjects: () => rm(join(root, 'objects'), { recursive: true, force: true }),
      };
    },
    async stop() {
      await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
}

function gcsFixtureBackend(): Backend {
  const bucket = 'pipe-cli';
  let server: GcsServer | undefined;
  return {
    name: 'gs:// (GCS server fixture)',
    async start() {
      server = await startGcsServer([bucket]);
    },
    async store() {
      const s = server!;
      const prefix = `t-${randomBytes(4).toString('hex')}`;
      const raw = new Storage({ apiEndpoint: s.url }).bucket(bucket);
      return {
        env: { PIPE_REMOTE: `gs://${bucket}/${prefix}`, PIPE_GCS_ENDPOINT: s.url },
        remote: await open(`gs://${bucket}/${prefix}`, s.url),
        // An unconditional overwrite: the service's own checksums match, only sha256 can tell.
        corrupt: (sha, bytes) =>
          raw
            .file(`${prefix}/objects/${sha.slice(0, 2)}/${sha}`)
            .save(bytes, { resumable: false })
            .then(() => undefined),
        wipeObjects: () => raw.deleteFiles({ prefix: `${prefix}/objects/` }),
        requests: () => s.requests(),
      };
    },
    async stop() {
      await server?.stop();
    },
  };
}

function realBucketBackend(): Backend {
  const bucket = process.env.PIPE_TEST_GCS_BUCKET ?? '';
  const credentials = process.env.GOOGLE_APPLICATION_CREDENTIALS ?? '';
  const hasCredentials =
    credentials !== '' ||
    existsSync(join(homedir(), '.config', 'gcloud', 'application_default_credentials.json'));
  const base = `pipe-cli-tests/${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const skip =
    bucket === '' || !hasCredentials
      ? `set PIPE_TEST_GCS_BUCKET (now ${bucket === '' ? 'unset' : 'set'}) and Application Default Credentials (now ${hasCredentials ? 'found' : 'missing'}) to run these scenarios against a real bucket`
      : undefined;
  return {
    name: `gs://${bucket || '<PIPE_TEST_GCS_BUCKET>'} (real bucket)`,
    ...(skip === undefined ? {} : { skip }),
    async start() {},
    async store() {
      const prefix = `${base}/${randomBytes(4).toString('hex')}`;
      const raw = new Storage().bucket(bucket);
      return {
        env: {
          PIPE_REMOTE: `gs://${bucket}/${prefix}`,
          ...(credentials === '' ? {} : { GOOGLE_APPLICATION_CREDENTIALS: credentials }),
        },
        remote: await open(`gs://${bucket}/${prefix}`),
        corrupt: (sha, bytes) =>
          raw
            .file(`${prefix}/objects/${sha.slice(0, 2)}/${sha}`)
            .save(bytes, { resumable: false })
            .then(() => undefined),
        wipeObjects: () => raw.deleteFiles({ prefix: `${prefix}/objects/` }),
      };
    },
    async stop() {
      if (skip === undefined)
        await new Storage().bucket(bucket).deleteFiles({ prefix: `${base}/` });
    },
  };
}

export const backends: readonly Backend[] = [
  fileBackend(),
  gcsFixtureBackend(),
  realBucketBackend(),
];

/**
 * Every version on the store, and the objects its manifest names that the store does not hold.
 * Read through the Remote interface, independently of the CLI under test.
 */
export async function walkStore(
  remote: Remote,
): Promise<{ versions: string[]; missing: string[] }> {
  const ids = await remote.listVersions();
  if (!ids.ok) throw new Error(JSON.stringify(ids.error));
  const missing: string[] = [];
  for (const id of ids.value) {
    const text = await remote.getManifest(id);
    if (!text.ok) throw new Error(JSON.stringify(text.error));
    const manifest = JSON.parse(text.value) as {
      stages: Record<string, { files: { path: string; sha256: Sha256Hex }[] }>;
    };
    const files = Object.values(manifest.stages).flatMap((s) => s.files);
    const present = await remote.hasObjects(files.map((f) => f.sha256));
    if (!present.ok) throw new Error(JSON.stringify(present.error));
    for (const f of files)
      if (!present.value.has(f.sha256)) missing.push(`${id}: ${f.path} (${f.sha256})`);
  }
  return { versions: ids.value, missing };
}
