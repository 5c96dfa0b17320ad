// `pipe gc`: local file lists pipeline.lock no longer names, and remote objects no version names,
// removed only past the grace period; what the lock or any version needs stays, checked by
// pulling and by status afterwards. Expected counts follow from the pipeline here:
// gen's folder out/gen has one file list per distinct content.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { openRemote } from '../lib/remote/open.js';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace } from './helpers/workspace.js';

describe('pipe gc', () => {
  it('removes old file lists the lock does not name, keeps young ones and the named ones', async () => {
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'one two\n' });
    expect((await ws.pipe('build')).code).toBe(0);
    ws.write('data/in.txt', 'three four five\n');
    expect((await ws.pipe('build')).code).toBe(0);
    const lists = () => readdirSync(ws.path('.pipe/manifests')).sort();
    expect(lists()).toHaveLength(2); // out/gen before and after
    const young = JSON.parse((await ws.pipe('gc', '--json')).stdout);
    expect(young.local).toMatchObject({ removed: [], kept: 1, young: 1 });
    const dry = JSON.parse((await ws.pipe('gc', '--grace', '0m', '--dry-run', '--json')).stdout);
    expect(dry.local.removed).toHaveLength(1);
    expect(lists()).toHaveLength(2);
    const r = await ws.pipe('gc', '--grace', '0m');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^local: removed 1 of 2 file lists in \.pipe\/manifests/);
    expect(lists()).not.toContain(dry.local.removed[0].replace('.pipe/manifests/', ''));
    expect(lists()).toHaveLength(1);
    expect((await ws.pipe('status', '--check')).code).toBe(0);
    expect((await ws.pipe('gc', '--grace', 'soon')).code).toBe(2);
  });

  it('--remote removes objects no version names, past the grace period; every version still pulls', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pipe-gc-store-'));
    const env = { env: { PIPE_REMOTE: `file://${store}` } };
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'one two\n' });
    expect((await ws.pipeWith(env, 'build')).code).toBe(0);
    const v1 = JSON.parse((await ws.pipeWith(env, 'push', '--json')).stdout).versionId;
    // An object a killed push left behind: stored, named by no version.
    const orphan = Buffer.from('left behind\n');
    const sha = createHash('sha256').update(orphan).digest('hex') as Sha256Hex;
    const file = ws.path('orphan.bin');
    writeFileSync(file, orphan);
    const remote = await openRemote(`file://${store}`, { workspace: ws.root });
    if (!remote.ok) throw new Error(remote.error);
    expect((await remote.value.putObject(sha, file, orphan.length)).ok).toBe(true);
    const before = await remote.value.listObjects();
    expect(before.ok && before.value.map((o) => o.sha)).toContain(sha);

    const young = JSON.parse((await ws.pipeWith(env, 'gc', '--remote', '--json')).stdout);
    expect(young.remote).toMatchObject({ removed: [], young: 1, versions: 1 });
    const r = await ws.pipeWith(env, 'gc', '--remote', '--grace', '0m', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).remote).toMatchObject({ removed: [sha], bytes: orphan.length });
    const after = await remote.value.listObjects();
    expect(after.ok && after.value.map((o) => o.sha)).not.toContain(sha);
    expect(after.ok && after.value.length).toBe(before.ok && before.value.length - 1);
    ws.remove('out');
    const pulled = await ws.pipeWith(env, 'pull', v1, '--accept-untrusted'); // unsigned here
    expect(pulled.code, pulled.stderr).toBe(0);
    expect((await ws.pipeWith(env, 'status', '--check')).code).toBe(0);
  });
});
