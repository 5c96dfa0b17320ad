// push, pull, listings and ref moves against a GCS that fails the way the service and the network
// do (issue 13): 429 and 503 answers, connections dropped unanswered, and bodies cut after half
// their length. The GCS server fixture injects each (test/gcs-server/faults.ts); pipe runs as
// the CLI with retries on (PIPE_GCS_RETRIES, PIPE_GCS_RETRY_MAX_DELAY_MS, PIPE_GCS_STALL_MS). A retry must be
// idempotent: a create whose first try landed is "present", a ref move whose first try landed is
// ours, not a lost race. A cut download is never accepted, however often it is cut.
//
// Expected bytes are what the gen-sum stages write for 'alpha beta' (one word and a newline per
// file, "2 files" in the sum), so a pulled workspace is checked against the text, not against pipe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGcsServer, type GcsServer, type LoggedRequest } from './gcs-server/index.js';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace, type RunResult, type TempWorkspace } from './helpers/workspace.js';

const BUCKET = 'pipe-retries';
type Mode = '429' | '503' | 'drop' | 'truncate';

let server: GcsServer;
beforeAll(async () => {
  server = await startGcsServer([BUCKET]);
});
afterAll(() => server.stop());

let prefixes = 0;

/** A fresh prefix on the bucket and the env that points pipe at it, with retries on. */
function store(retries = 4): { prefix: string; env: Record<string, string> } {
  const prefix = `r${++prefixes}-${Date.now()}`;
  return {
    prefix,
    env: {
      PIPE_REMOTE: `gs://${BUCKET}/${prefix}`,
      PIPE_GCS_ENDPOINT: server.url,
      PIPE_GCS_RETRIES: String(retries),
      // Waits of at most 20 ms: the test is about what is retried, not how long it waits.
      PIPE_GCS_RETRY_MAX_DELAY_MS: '20',
      // The client never settles a response cut short: pipe fails a transfer that moves no
      // byte for this long (default 60 s), then retries it.
      PIPE_GCS_STALL_MS: '500',
    },
  };
}

/** The request paths (with query, as the fixture matches them) of each kind of call on `prefix`. */
function paths(prefix: string) {
  const name = (key: string) => `name=${prefix}%2F${key}`;
  const object = (key: string) => `^/storage/v1/b/${BUCKET}/o/${prefix}%2F${key}`;
  return {
    objectUpload: name('objects%2F'),
    manifestUpload: name('versions%2F'),
    refUpload: name('refs%2Fcurrent\\.json'),
    listing: `^/storage/v1/b/${BUCKET}/o\\?.*prefix=${prefix}%2F`,
    objectDownload: `${object('objects%2F')}.*alt=media`,
    manifestDownload: `${object('versions%2F')}.*alt=media`,
    refDownload: `${object('refs%2Fcurrent\\.json')}.*alt=media`,
  };
}

async function built(): Promise<TempWorkspace> {
  const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta\n' });
  expect((await ws.pipe('build')).code).toBe(0);
  return ws;
}

function pushed(r: RunResult): { versionId: string; refs: { ref: string; result: string }[] } {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { versionId: string; refs: { ref: string; result: string }[] };
}

/** The outputs a pull must land, byte for byte. */
function expectPulledOutputs(ws: TempWorkspace): void {
  expect(ws.read('out/gen/w0.txt')).toBe('alpha\n');
  expect(ws.read('out/gen/w1.txt')).toBe('beta\n');
  expect(ws.read('out/sum.txt')).toBe('2 files\n');
}

/** How many requests since `from` the fixture failed in `mode` (0: dropped unanswered). */
function failures(log: readonly LoggedRequest[], mode: Mode): number {
  const status = mode === 'drop' ? 0 : mode === 'truncate' ? 200 : Number(mode);
  return log.filter((r) => r.status === status).length;
}

describe('GCS faults with retries on', () => {
  for (const mode of ['429', '503', 'drop'] as const) {
    it(`${mode}: push (objects, manifest, listing, ref read and move), versions and pull survive`, async () => {
      const { prefix, env } = store();
      const p = paths(prefix);
      const a = await built();
      const before = (await server.requests()).length;
      // Each kind of call fails twice in a row, then answers: 2 < 4 retries.
      for (const path of [p.listing, p.objectUpload, p.manifestUpload, p.refDownload, p.refUpload])
        await server.injectFailure({ path, mode, count: 2 });
      const push = pushed(await a.pipeWith({ env }, 'push', '--set-current', '--json'));
      expect(push.refs).toEqual([{ ref: 'current', result: 'moved', versionId: push.versionId }]);
      const afterPush = (await server.requests()).slice(before);
      expect(failures(afterPush, mode)).toBe(10);

      for (const path of [p.listing, p.refDownload])
        await server.injectFailure({ path, mode, count: 2 });
      const versions = await a.pipeWith({ env }, 'versions', '--json');
      expect(versions.code, versions.stderr).toBe(0);
      expect(versions.stdout).toContain(push.versionId);

      const b = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta\n' });
      for (const path of [p.refDownload, p.manifestDownload, p.objectDownload])
        await server.injectFailure({ path, mode, count: 2 });
      const pull = await b.pipeWith({ env }, 'pull', '--accept-untrusted', 'current');
      expect(pull.code, pull.stderr).toBe(0);
      expectPulledOutputs(b);
      expect((await b.pipe('status', '--check')).code).toBe(0);
    });
  }

  it('a retried create or ref move whose first try landed is success, not "exists" or a lost race', async () => {
    const { prefix, env } = store();
    const p = paths(prefix);
    const a = await built();
    // `truncate` lets the request land, then cuts the answer: the client cannot know it landed,
    // and its retry meets the precondition (ifGenerationMatch) it set itself.
    for (const path of [p.objectUpload, p.manifestUpload, p.refUpload])
      await server.injectFailure({ path, mode: 'truncate', count: 1 });
    const before = (await server.requests()).length;
    const push = pushed(await a.pipeWith({ env }, 'push', '--set-current', '--json'));
    expect(push.refs).toEqual([{ ref: 'current', result: 'moved', versionId: push.versionId }]);
    // Each of the three was answered 412 on its retry: proof that the first try had landed.
    const log = (await server.requests()).slice(before);
    expect(log.filter((r) => r.status === 412).length).toBe(3);
    const b = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta\n' });
    expect((await b.pipeWith({ env }, 'pull', '--accept-untrusted', 'current')).code).toBe(0);
    expectPulledOutputs(b);
  });

  it('a download cut short is retried, and its half is never kept', async () => {
    const { prefix, env } = store();
    const p = paths(prefix);
    const a = await built();
    pushed(await a.pipeWith({ env }, 'push', '--set-current', '--json'));
    const b = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta\n' });
    await server.injectFailure({ path: p.objectDownload, mode: 'truncate', count: 2 });
    await server.injectFailure({ path: p.manifestDownload, mode: 'truncate', count: 1 });
    const before = (await server.requests()).length;
    const pull = await b.pipeWith({ env }, 'pull', '--accept-untrusted', 'current');
    expect(pull.code, pull.stderr).toBe(0);
    expectPulledOutputs(b);
    // Three distinct contents (alpha, beta, "2 files"), two of the downloads cut and fetched again.
    const log = (await server.requests()).slice(before);
    const objectGets = log.filter((r) => r.method === 'GET' && r.path.includes('%2Fobjects%2F'));
    expect(objectGets.length).toBe(3 + 2);
  });

  it('a download cut short on every try fails the pull and writes nothing', async () => {
    const { prefix, env } = store(2);
    const p = paths(prefix);
    const a = await built();
    pushed(await a.pipeWith({ env }, 'push', '--set-current', '--json'));
    const b = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta\n' });
    await server.injectFailure({ path: p.objectDownload, mode: 'truncate', count: 1000 });
    const pull = await b.pipeWith({ env }, 'pull', '--accept-untrusted', 'current');
    expect(pull.code).toBe(6); // the remote failed (lib/util/exit-codes.ts)
    expect(pull.stderr).toContain('unreachable');
    expect(b.exists('out/gen')).toBe(false);
    expect(b.exists('out/sum.txt')).toBe(false);
  });

  it('a bad PIPE_GCS_RETRIES is refused, naming where it came from', async () => {
    const { env } = store();
    const a = await built();
    const r = await a.pipeWith({ env: { ...env, PIPE_GCS_RETRIES: 'lots' } }, 'versions');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'PIPE_GCS_RETRIES="lots" (from environment) is not a whole number from 0 to 100',
    );
  });
});
