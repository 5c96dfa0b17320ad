// download's incremental path (pipeline.yaml `incremental: changes`), through the real CLI and the
// repo's real stage: after every random step of uploads added, replaced and deleted (and a file
// that is not an upload), workspace A runs `pipe build download` incrementally and workspace B
// from scratch (`--force`) over the same uploads. A's data/raw must be B's, file for file and
// byte for byte (manifest included), and both must be what the uploads folder or bucket holds,
// read here independently: every upload-named file with its bytes. A must have run incrementally
// every step (else the test would compare two full builds) and be fresh afterwards.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../samples/typing.js';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';
import { copyRepoPipeline } from './helpers/repo-copy.js';
import { REPO } from './helpers/run-stage.js';

const STEPS = 10;
/** Upload names, by the rule docs/data-tables.md states (not stages/shared/uploads.ts's code). */
const UPLOAD = /(\.session\.json(\.gz)?|_keystrokes\.txt)$/;

/** Every file under `root`: relative path -> its bytes in base64. */
function tree(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else files[path] = readFileSync(join(root, path)).toString('base64');
    }
  };
  walk('');
  return files;
}

/** What a mirror of `uploads` (path -> bytes) must hold, manifest aside. */
function expectedMirror(uploads: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(uploads).filter(([path]) => UPLOAD.test(path)));
}

function withoutManifest(files: Record<string, string>): Record<string, string> {
  const { 'manifest.json': _m, ...rest } = files;
  return rest;
}

/** A store of uploads (a folder or a bucket prefix): `put`/`remove` act on it, `list` reads it. */
interface Store {
  put(path: string, body: string): Promise<void>;
  remove(path: string): Promise<void>;
  list(): Promise<Record<string, string>>;
  /** Objects downloaded so far (GCS media GETs); undefined for a folder. */
  downloads?(): Promise<number>;
}

/** Uploads deleted by a step so far, for a later step to bring back. */
const deletedPaths: string[] = [];

/** The first steps' kinds, so every kind is covered whatever the seed; random after these. */
const SCHEDULE = ['add', 'replace', 'delete', 're-add', 'delete-with-notes'] as const;

/** One change (random target and bytes); returns what it did and how many uploads it wrote. */
async function randomStep(
  random: () => number,
  store: Store,
  n: number,
): Promise<{ did: string; written: number }> {
  const present = Object.keys(await store.list()).filter((p) => UPLOAD.test(p));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  let op =
    n < SCHEDULE.length ? SCHEDULE[n]! : pick(['add', 'replace', 'delete', 're-add'] as const);
  if (present.length < 2) op = 'add';
  if (op === 're-add' && deletedPaths.length === 0) op = 'replace';
  if (op === 'add') {
    const path = pick([
      `web/s${n}.session.json`,
      `aalto/${n}_keystrokes.txt`,
      `deep/x/s${n}.session.json`,
    ]);
    await store.put(path, `upload ${n} ${random()}`);
    return { did: `add ${path}`, written: 1 };
  }
  if (op === 're-add') {
    // A deleted upload that comes back leaves the manifest's deleted list.
    const back = deletedPaths.pop()!;
    await store.put(back, `back at ${n}`);
    return { did: `re-add ${back}`, written: 1 };
  }
  const path = pick(present);
  if (op === 'replace') {
    await store.put(path, `replaced at ${n} ${random()}`);
    return { did: `replace ${path}`, written: 1 };
  }
  await store.remove(path);
  deletedPaths.push(path);
  if (op === 'delete') return { did: `delete ${path}`, written: 0 };
  // A file that is not an upload changes the dep but must not reach data/raw.
  await store.put(`notes-${n}.md`, 'not an upload');
  return { did: `delete ${path}, add notes-${n}.md (not an upload)`, written: 0 };
}

async function checkSteps(store: Store, env: string): Promise<void> {
  const [a, b] = ['dl-inc-', 'dl-full-'].map((prefix) => {
    const root = copyRepoPipeline(prefix);
    made.push(root);
    writeFileSync(join(root, 'config/.env.local'), env);
    return root;
  }) as [string, string];
  const random = seededRandom(20261205);
  deletedPaths.length = 0;
  for (let n = 0; n < 4; n++) await store.put(`web/first${n}.session.json`, `first ${n}`);
  await store.put('aalto/1_keystrokes.txt', 'PARTICIPANT_ID\n1\n');
  const first = await pipeIn(a, 'build', 'download');
  expect(first.status, first.stderr).toBe(0);
  const history: string[] = [];
  const ops = new Set<string>();
  for (let n = 0; n < STEPS; n++) {
    const { did, written } = await randomStep(random, store, n);
    history.push(did);
    ops.add(did.split(' ')[0]!);
    const context = history.join('\n');
    const downloadsBefore = await store.downloads?.();
    const inc = await pipeIn(a, 'build', 'download');
    expect(inc.status, `${context}\n${inc.stdout}\n${inc.stderr}`).toBe(0);
    expect(inc.stdout, context).toContain('download: running incrementally');
    // From a bucket, the incremental run downloads exactly the uploads written, none of the rest.
    if (downloadsBefore !== undefined)
      expect((await store.downloads!()) - downloadsBefore, context).toBe(written);
    const full = await pipeIn(b, 'build', 'download', '--force');
    expect(full.status, `${context}\n${full.stderr}`).toBe(0);
    const incremental = tree(join(a, 'data/raw'));
    expect(incremental, context).toEqual(tree(join(b, 'data/raw')));
    expect(withoutManifest(incremental), context).toEqual(expectedMirror(await store.list()));
    expect((await pipeIn(a, 'status', 'download')).stdout, context).toContain('fresh');
  }
  // Every kind of change came (else the steps prove less than they say).
  expect([...ops].sort(), history.join('\n')).toEqual(['add', 'delete', 're-add', 'replace']);
}

/**
 * The repo's built `pipe` in `root`, without blocking this process: the GCS test server answers
 * from it (helpers/repo-copy.ts runPipeIn would stall it).
 */
function pipeIn(
  root: string,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [join(REPO, 'bin/pipe.js'), ...args], {
      cwd: root,
      env: { ...process.env, CI: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('download runs incrementally and equals a from-scratch mirror', () => {
  it(`file:// folder: ${STEPS} random steps of uploads added, replaced and deleted`, async () => {
    const uploads = mkdtempSync(join(tmpdir(), 'dl-uploads-'));
    made.push(uploads);
    const store: Store = {
      async put(path, body) {
        mkdirSync(join(uploads, path, '..'), { recursive: true });
        // A replacement is a new file renamed over the old, as uploads arrive (a link in data/raw
        // is the upload itself: an upload edited in place would change data/raw too).
        writeFileSync(join(uploads, `${path}.tmp`), body);
        rmSync(join(uploads, path), { force: true });
        writeFileSync(join(uploads, path), body);
        rmSync(join(uploads, `${path}.tmp`));
      },
      async remove(path) {
        rmSync(join(uploads, path));
      },
      async list() {
        return tree(uploads);
      },
    };
    await checkSteps(store, `UPLOADS_URL=file://${uploads}\n`);
  }, 600_000);

  describe('gs:// prefix (the GCS test server)', () => {
    const BUCKET = 'dl-incremental';
    let server: GcsServer;
    beforeAll(async () => {
      server = await startGcsServer([BUCKET]);
    });
    afterAll(async () => {
      await server.stop();
    });

    it(`${STEPS} random steps of objects written, rewritten and deleted`, async () => {
      const bucket = new Storage({ apiEndpoint: server.url }).bucket(BUCKET);
      const store: Store = {
        async put(path, body) {
          await bucket.file(`in/${path}`).save(body, { resumable: false });
        },
        async remove(path) {
          await bucket.file(`in/${path}`).delete();
        },
        async downloads() {
          return (await server.requests()).filter(
            (r) => r.method === 'GET' && r.query.alt === 'media',
          ).length;
        },
        async list() {
          const [files] = await bucket.getFiles({ prefix: 'in/' });
          const listed: Record<string, string> = {};
          for (const f of files)
            listed[f.name.slice('in/'.length)] = (await f.download())[0].toString('base64');
          return listed;
        },
      };
      await checkSteps(store, `UPLOADS_URL=gs://${BUCKET}/in\nPIPE_GCS_ENDPOINT=${server.url}\n`);
    }, 600_000);
  });
});
