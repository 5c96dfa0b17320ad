// The Remote contract on the file:// store, plus what only a folder can get wrong: URL forms,
import { existsSync } from 'node:fs';
// a missing folder, and compare-and-swap between separate processes.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config } from '../lib/pipeline/config.js';
import { openConfiguredRemote, openRemote } from '../lib/remote/open.js';
import type { Remote } from '../lib/remote/remote.js';
import type { RefName } from '../lib/remote/remote-path.js';
import { remoteSuite } from './remote-suite.js';

async function open(url: string, workspace: string): Promise<Remote> {
  const opened = await openRemote(url, { workspace });
  if (!opened.ok) throw new Error(opened.error);
  return opened.value;
}

remoteSuite('file://', async () => {
  const root = await mkdtemp(join(tmpdir(), 'remote-local-'));
  const store = join(root, 'store');
  const workspace = join(root, 'workspace');
  await Promise.all([mkdir(store), mkdir(join(root, 'elsewhere')), mkdir(workspace)]);
  return {
    remote: await open(`file://${store}`, workspace),
    twin: await open('file://../store', workspace), // the relative form, resolved against the workspace
    neighbour: await open(`file://${join(root, 'elsewhere')}`, workspace),
    async replaceObjectBytes(sha, bytes) {
      await writeFile(join(store, 'objects', sha.slice(0, 2), sha), bytes);
    },
    async putRaw(key, text) {
      await mkdir(dirname(join(store, key)), { recursive: true });
      await writeFile(join(store, key), text);
    },
    rawRefKey: (ref, generation) =>
      `refs/${ref}/${String(Number(generation) + 1).padStart(12, '0')}.json`,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('file:// remote specifics', () => {
  it('parses absolute and workspace-relative URLs and rejects others with an example', async () => {
    const abs = await openRemote('file:///srv/store', { workspace: '/home/me/ws' });
    expect(abs.ok && abs.value.url).toBe('file:///srv/store');
    const rel = await openRemote('file://../shared', { workspace: '/home/me/ws' });
    expect(rel.ok && (rel.value as unknown as { root: string }).root).toBe('/home/me/shared');
    const spaced = await openRemote('file:///srv/my%20store', { workspace: '/w' });
    expect(spaced.ok && (spaced.value as unknown as { root: string }).root).toBe('/srv/my store');
    expect(await openRemote('file:///srv/100%', { workspace: '/w' })).toEqual({
      ok: false,
      error: 'remote "file:///srv/100%" has a malformed %-escape (write a literal % as %25)',
    });
    const bad = await openRemote('/srv/store', { workspace: '/home/me/ws' });
    expect(bad).toEqual({
      ok: false,
      error:
        'remote "/srv/store" is not a file:// or gs:// URL (e.g. PIPE_REMOTE=file:///srv/pipe-store or gs://my-bucket/pipe)',
    });
    expect(await openRemote('gs://my-bucket/../x', { workspace: '/w' })).toEqual({
      ok: false,
      error: `remote "gs://my-bucket/../x": prefix "../x" has an unsafe segment ".." (letters, digits, '.', '_', '-' only)`,
    });
    expect(await openRemote('gs://B/x', { workspace: '/w' })).toEqual({
      ok: false,
      error: 'remote "gs://B/x": "B" is not a bucket name',
    });
  });

  it('takes the remote from a flag over the config files, and names the source of a bad value', async () => {
    const ws = await mkdtemp(join(tmpdir(), 'remote-config-'));
    await mkdir(join(ws, 'config'));
    await writeFile(join(ws, 'config', '.env.base'), 'PIPE_REMOTE=file://../team-store\n');
    const config = new Config(ws, {});
    const fromFile = await openConfiguredRemote(config, ws);
    expect(fromFile.ok && (fromFile.value as unknown as { root: string }).root).toBe(
      join(ws, '..', 'team-store'),
    );
    const fromFlag = await openConfiguredRemote(config, ws, 'file:///elsewhere');
    expect(fromFlag.ok && fromFlag.value.url).toBe('file:///elsewhere');
    await writeFile(join(ws, 'config', '.env.local'), 'PIPE_REMOTE=s3://nope\n');
    expect(await openConfiguredRemote(new Config(ws, {}), ws)).toEqual({
      ok: false,
      error:
        'remote "s3://nope" is not a file:// or gs:// URL (e.g. PIPE_REMOTE=file:///srv/pipe-store or gs://my-bucket/pipe) (PIPE_REMOTE from .env.local)',
    });
    expect(await openConfiguredRemote(new Config(join(ws, 'nothing-here'), {}), ws)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^no remote configured: set PIPE_REMOTE/),
    });
    await rm(ws, { recursive: true });
  });

  it('reads a store folder not created yet as empty, and creates it on the first write', async () => {
    const root = await mkdtemp(join(tmpdir(), 'remote-missing-'));
    const remote = await open(`file://${root}/fresh`, root);
    expect(await remote.listVersions()).toEqual({ ok: true, value: [] });
    expect(await remote.listRefs()).toEqual({ ok: true, value: new Map() });
    expect(await remote.readRef('current' as RefName)).toEqual({ ok: true, value: null });
    expect(existsSync(join(root, 'fresh')), 'reading creates nothing').toBe(false);
    const put = await remote.putManifest('2026-01-01_00-00-00_h-u' as never, '{}');
    expect(put).toEqual({ ok: true, value: 'stored' });
    expect(await remote.listVersions()).toEqual({ ok: true, value: ['2026-01-01_00-00-00_h-u'] });
    await rm(root, { recursive: true });
  });

  it('says a store whose parent folder is missing is unreachable (an unmounted disk), creating nothing', async () => {
    const root = await mkdtemp(join(tmpdir(), 'remote-missing-'));
    const remote = await open(`file://${root}/no-disk/store`, root);
    const want = {
      ok: false,
      error: {
        kind: 'unreachable',
        remote: `file://${root}/no-disk/store`,
        detail: `folder ${root}/no-disk does not exist, so the remote ${root}/no-disk/store cannot be created in it (is the disk mounted? create it: mkdir -p ${root}/no-disk/store)`,
      },
    };
    expect(await remote.listVersions()).toEqual(want);
    expect(await remote.putManifest('2026-01-01_00-00-00_h-u' as never, '{}')).toEqual(want);
    expect(existsSync(join(root, 'no-disk'))).toBe(false);
    await rm(root, { recursive: true });
  });

  it('lets exactly one of several processes win each generation', async () => {
    const root = await mkdtemp(join(tmpdir(), 'remote-procs-'));
    const remote = await open(`file://${root}`, root);
    const ref = 'current' as RefName;
    const start = await remote.casRef(ref, '2026-01-01_00-00-00_host-start' as never, null);
    if (!start.ok) throw new Error('setup');
    // Each child tries once from the same generation, all released at the same moment.
    const script = `
      import { openRemote } from ${JSON.stringify(new URL('../lib/remote/open.ts', import.meta.url).pathname)};
      const opened = await openRemote('file://${root}', { workspace: '/' });
      const remote = opened.value;
      await new Promise((r) => setTimeout(r, Number(process.argv[2]) - Date.now()));
      const result = await remote.casRef('current', '2026-01-01_00-00-01_host-p' + process.argv[3], process.argv[4]);
      process.stdout.write(JSON.stringify(result));`;
    await writeFile(join(root, 'racer.mts'), script);
    const at = Date.now() + 1500;
    const outputs = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        run(process.execPath, [
          '--import',
          'tsx',
          join(root, 'racer.mts'),
          String(at),
          String(i),
          start.value.generation,
        ]),
      ),
    );
    const results = outputs.map((o) => JSON.parse(o) as { ok: boolean; error?: { kind: string } });
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).map((r) => r.error?.kind)).toEqual(
      Array(5).fill('conflict'),
    );
    await rm(root, { recursive: true });
  });
});

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`)),
    );
  });
}
