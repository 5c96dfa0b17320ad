// Leftovers of killed pipe commands (issue 13): temp files of atomic writes, temp folders of
// stages and pulls, the mutex's private names, and a file:// remote's unpublished temps. The next
// command that takes the build mutex removes the workspace's, and removeDebris (for `pipe gc`)
// both, but only those older than the grace period: a command running now keeps its own.
import { mkdirSync, mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { removeDebris } from '../lib/commands/debris.js';
import { openRemote } from '../lib/remote/open.js';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const HOUR_S = 3600;

/** Names written exactly as the writers name them (see each writer's temp naming). */
const OLD_DEBRIS = [
  '.pipeline.lock.4242-0a1b2c3d.tmp', // util/atomic-write.ts on pipeline.lock
  '.pipe/.state-cache.4242-0a1b2c3d.tmp', // the same, on a cache under .pipe
  '.pipe/manifests/.ab12.json.4242-0a1b2c3d.tmp',
  '.pipe/build.lock.4242-0a1b2c3d', // mutex.ts, its private name before link()
  '.pipe/build.lock.dead-4242-0a1b2c3d', // mutex.ts, a takeover's aside name
  '.pipe/tmp/pull-0a1b2c3d', // versions/pull.ts (a folder)
  '.pipe/tmp/gen-0a1b2c3d', // the runner's stage folder
];
/** The same kinds, written a minute ago: a command running now may own them. */
const YOUNG = ['.pipeline.lock.4243-0a1b2c3e.tmp', '.pipe/tmp/pull-0a1b2c3e'];
/** Look-alikes that are not debris, however old. */
const NOT_DEBRIS = ['.pipe/notes.tmp', 'data/.x.4242-0a1b2c3d.tmp', '.pipe/build.lock.log'];

function plant(ws: TempWorkspace, rel: string, ageS: number): void {
  if (rel.startsWith('.pipe/tmp/')) {
    ws.write(`${rel}/objects/0a`, 'partial');
  } else ws.write(rel, 'x');
  ws.age(rel, ageS);
}

function plantAll(ws: TempWorkspace): void {
  for (const rel of OLD_DEBRIS) plant(ws, rel, 2 * HOUR_S);
  for (const rel of NOT_DEBRIS) plant(ws, rel, 2 * HOUR_S);
  for (const rel of YOUNG) plant(ws, rel, 60);
}

describe('debris of killed commands', () => {
  it('the next push (it takes the build mutex) removes the old and keeps the young', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pipe-store-'));
    onTestFinished(() => rm(store, { recursive: true, force: true }));
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'a b\n' });
    expect((await ws.pipe('build')).code).toBe(0);
    plantAll(ws);
    const pushed = await ws.pipeWith({ env: { PIPE_REMOTE: `file://${store}` } }, 'push');
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const rel of OLD_DEBRIS) expect(ws.exists(rel), rel).toBe(false);
    for (const rel of [...YOUNG, ...NOT_DEBRIS]) expect(ws.exists(rel), rel).toBe(true);
  });

  it('removeDebris sweeps the workspace and a file:// remote, and says what it removed', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pipe-store-'));
    onTestFinished(() => rm(store, { recursive: true, force: true }));
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'a b\n' });
    expect((await ws.pipe('build')).code).toBe(0);
    const push = await ws.pipeWith({ env: { PIPE_REMOTE: `file://${store}` } }, 'push', '--json');
    expect(push.code, push.stderr).toBe(0);
    const { versionId } = JSON.parse(push.stdout) as { versionId: string };
    plantAll(ws);
    // A push killed between writing and linking leaves `.<name>.tmp-<pid>-<hex>` (verified-file.ts).
    const sha = readdirSync(join(store, 'objects', readdirSync(join(store, 'objects'))[0]!))[0]!;
    const remoteOld = [
      `objects/${sha.slice(0, 2)}/.${sha}.tmp-4242-0a1b2c3d`,
      'versions/.v1.json.tmp-4242-0a1b2c3d',
    ];
    const remoteYoung = `objects/${sha.slice(0, 2)}/.${sha}.tmp-4243-0a1b2c3e`;
    const now = Date.now() / 1000;
    for (const key of [...remoteOld, remoteYoung]) {
      mkdirSync(dirname(join(store, key)), { recursive: true });
      writeFileSync(join(store, key), 'partial');
      const t = key === remoteYoung ? now - 60 : now - 2 * HOUR_S;
      utimesSync(join(store, key), t, t);
    }
    const remote = await openRemote(`file://${store}`, { workspace: ws.root });
    if (!remote.ok) throw new Error(remote.error);
    const removed = await removeDebris(ws.root, remote.value);
    expect(removed.workspace).toEqual([...OLD_DEBRIS].sort());
    expect(removed.remote).toEqual({ ok: true, value: [...remoteOld].sort() });
    for (const rel of [...YOUNG, ...NOT_DEBRIS]) expect(ws.exists(rel), rel).toBe(true);
    // The store still serves everything: a fresh workspace pulls the version whole.
    const other = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'a b\n' });
    const pulled = await other.pipeWith(
      { env: { PIPE_REMOTE: `file://${store}` } },
      'pull',
      '--accept-untrusted',
      versionId,
    );
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(other.read('out/sum.txt')).toBe('2 files\n');
  });
});
