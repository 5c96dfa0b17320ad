// pipe push / pull / versions and the remote build cache, through the real CLI in temp folders,
// against every backend in helpers/remote-backends.ts (file://, the GCS server fixture, and a real
// bucket when configured). Two workspaces with the same sources play two teammates.
//
//   data/in.txt ──▶ gen ──▶ out/gen/ (one file per word) ──▶ sum ──▶ out/sum.txt
//
// Expected hashes are computed here with node:crypto over the bytes the stage scripts write
// (one word and a newline per file), never read back from pipe.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { backends, walkStore, type Store } from './helpers/remote-backends.js';
import { GEN_SUM_PIPELINE, GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace, type RunResult, type TempWorkspace } from './helpers/workspace.js';
import { makeTestKey, signedManifestText } from './helpers/signing.js';

/** Every teammate here signs with the team's key and trusts it (remote-trust.test.ts tries the rest). */
const team = makeTestKey();

const sha256 = (text: string | Buffer): Sha256Hex =>
  createHash('sha256').update(text).digest('hex') as Sha256Hex;

function json<T>(r: RunResult): T {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`push, pull, versions: ${backend.name}`, () => {
    beforeAll(() => backend.start());
    afterAll(() => backend.stop());

    let store: Store;
    /** A workspace on the shared store with `words` as its input. */
    async function workspace(
      words = 'alpha beta gamma',
      extra: Record<string, string> = {},
    ): Promise<TempWorkspace & { run(...args: string[]): Promise<RunResult> }> {
      const ws = await tempWorkspace({
        ...GEN_SUM_SOURCES,
        'data/in.txt': `${words}\n`,
        'config/trusted-keys/team.pub': team.pubLine('the team'),
      });
      const env = { ...store.env, PIPE_SIGNING_KEY: team.path, ...extra };
      return Object.assign(ws, { run: (...args: string[]) => ws.pipeWith({ env }, ...args) });
    }
    async function builtAndPushed(...pushArgs: string[]) {
      const a = await workspace();
      expect((await a.run('build')).code).toBe(0);
      const pushed = json<{ versionId: string }>(await a.run('push', '--json', ...pushArgs));
      a.clearRuns();
      return { a, id: pushed.versionId };
    }

    it('refuses to push stale stages naming them, then publishes a version others can list and pull fresh', async () => {
      store = await backend.store();
      const a = await workspace();
      const refused = await a.run('push');
      expect(refused.code).toBe(7);
      expect(refused.stderr).toMatch(/refused: 2 stale stages \(gen, sum\)/);
      expect((await a.run('build')).code).toBe(0);
      expect(
        json<{ uploaded: number; dryRun: boolean }>(await a.run('push', '--dry-run', '--json')),
      ).toMatchObject({ uploaded: 4, dryRun: true });
      expect(await walkStore(store.remote)).toEqual({ versions: [], missing: [] }); // a dry run writes nothing
      const pushed = json<{ versionId: string; uploaded: number; files: number }>(
        await a.run('push', '--json', '--notes', 'first cut', '--set-current'),
      );
      expect(pushed).toMatchObject({ files: 4, uploaded: 4 }); // 3 word files + sum.txt, all distinct
      const listed = json<{
        refs: Record<string, string>;
        versions: {
          id: string;
          notes: string;
          stages: Record<string, { metrics?: unknown; outs: string[]; durationMs?: number }>;
        }[];
      }>(await a.run('versions', '--json'));
      expect(listed.refs).toEqual({ current: pushed.versionId });
      expect(listed.versions).toHaveLength(1);
      expect(listed.versions[0]).toMatchObject({
        id: pushed.versionId,
        notes: 'first cut',
        stages: { gen: { metrics: { records: 3 }, outs: ['out/gen'] } },
      });
      expect(listed.versions[0]!.stages.gen!.durationMs).toBeGreaterThan(0); // the processing time of the local run
      const shown = json<{
        manifest: { stages: { gen: { files: { path: string; sha256: string }[] } } };
      }>(await a.run('versions', 'show', 'current', '--json'));
      expect(shown.manifest.stages.gen.files).toEqual([
        { path: 'out/gen/w0.txt', sha256: sha256('alpha\n'), size: 6 },
        { path: 'out/gen/w1.txt', sha256: sha256('beta\n'), size: 5 },
        { path: 'out/gen/w2.txt', sha256: sha256('gamma\n'), size: 6 },
      ]);

      const b = await workspace();
      b.clearRuns();
      expect((await b.run('pull', 'current')).code).toBe(0);
      expect(b.read('out/gen/w1.txt')).toBe('beta\n');
      expect(b.read('out/sum.txt')).toBe('3 files\n');
      const status = json<{ stale: string[] }>(await b.run('status', '--json'));
      expect(status.stale).toEqual([]);
      expect(b.runs()).toEqual([]); // nothing ran in B
      const lock = JSON.parse(b.read('pipeline.lock')) as {
        stages: Record<string, { source?: { version: string } }>;
      };
      expect(lock.stages.gen!.source?.version).toBe(pushed.versionId);
    });

    it('sends zero bytes on an unchanged re-push', async () => {
      store = await backend.store();
      const { a, id } = await builtAndPushed();
      const before = (await store.requests?.())?.length ?? 0;
      const again = json<{
        versionId: string;
        unchanged: boolean;
        bytesSent: number;
        uploaded: number;
      }>(await a.run('push', '--json'));
      expect(again).toMatchObject({ versionId: id, unchanged: true, bytesSent: 0, uploaded: 0 });
      const log = (await store.requests?.())?.slice(before);
      if (log !== undefined) {
        expect(log.filter((r) => r.method === 'POST' || r.method === 'PUT')).toEqual([]); // no upload of any kind
        expect(log.length).toBeLessThanOrEqual(3); // list versions + one sample list of objects
      }
      expect((await walkStore(store.remote)).versions).toEqual([id]);
    });

    it('trusts its record of remote objects but verifies it: a wiped store gets everything again', async () => {
      store = await backend.store();
      const { a } = await builtAndPushed();
      await store.wipeObjects();
      const again = json<{ uploaded: number; unchanged: boolean }>(
        await a.run('push', '--json', '--notes', 'after the wipe'),
      );
      expect(again).toMatchObject({ uploaded: 4, unchanged: false });
      expect((await walkStore(store.remote)).missing).toEqual([]);
    });

    it("never writes outside the workspace or outside a stage's outs, whatever a manifest says", async () => {
      store = await backend.store();
      const { id } = await builtAndPushed();
      const text = await store.remote.getManifest(id as never);
      if (!text.ok) throw new Error('setup');
      // The published manifest with sum's file renamed to `path`, or with an extra file at `path`.
      const hostile = (path: string, n: number) => {
        const m = JSON.parse(text.value) as {
          id: string;
          stages: { sum: { files: { path: string }[] } };
        };
        m.id = id.replace(/_\d{2}-\d{2}-\d{2}-\d{3}_/, `_00-00-0${n}-000_`);
        if (n === 3) m.stages.sum.files.push({ ...m.stages.sum.files[0]!, path });
        else m.stages.sum.files[0]!.path = path;
        return m;
      };
      const b = await workspace();
      for (const [n, path, why] of [
        [1, '../escape.txt', 'has a ".." segment'],
        [2, '/tmp/escape.txt', 'is absolute'],
        [3, 'stages/gen.mjs', 'not inside any out of stage sum'],
      ] as const) {
        const m = hostile(path, n);
        // Signed by the trusted key: trust does not widen where a version may write.
        const put = await store.remote.putManifest(m.id as never, signedManifestText(m, team));
        expect(put.ok).toBe(true);
        const r = await b.run('pull', m.id);
        expect(r.code, r.stderr).toBe(6);
        expect(r.stderr).toContain(why);
      }
      expect(b.exists('out')).toBe(false);
      expect(b.read('stages/gen.mjs')).toBe(GEN_SUM_SOURCES['stages/gen.mjs']);
      // A symlinked folder on the way could point anywhere: refused (pipeline.yaml's own check, exit 3,
      // catches it first; pull's check on the disk is the second line), and nothing lands behind it.
      const elsewhere = await tempWorkspace();
      symlinkSync(elsewhere.root, b.path('out'));
      const r = await b.run('pull', id);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/through the symlink/);
      expect(readdirSync(elsewhere.root)).toEqual(['node_modules']);
    });

    it('refuses to pull a stage whose outs this pipeline declares differently', async () => {
      store = await backend.store();
      const { id } = await builtAndPushed('--set-current');
      const b = await workspace();
      b.write(
        'pipeline.yaml',
        GEN_SUM_PIPELINE.replace('outs: [out/sum.txt]', 'outs: [out/total.txt]'),
      );
      const r = await b.run('pull', 'current');
      expect(r.code).toBe(7);
      expect(r.stderr).toContain(
        `stage sum writes out/total.txt here, but in version ${id} it wrote out/sum.txt`,
      );
      expect(b.exists('out')).toBe(false);
      expect((await b.run('pull', 'current', '--stage', 'gen')).code).toBe(0); // the others still can be pulled
    });

    it('pulls one stage only', async () => {
      store = await backend.store();
      await builtAndPushed('--set-current');
      const b = await workspace();
      expect((await b.run('pull', 'current', '--stage', 'sum')).code).toBe(0);
      expect(b.read('out/sum.txt')).toBe('3 files\n');
      expect(b.exists('out/gen')).toBe(false);
      const lock = JSON.parse(b.read('pipeline.lock')) as { stages: Record<string, unknown> };
      expect(Object.keys(lock.stages)).toEqual(['sum']);
    });

    it('refuses to overwrite hand-edited outputs, naming them, and --force replaces them', async () => {
      store = await backend.store();
      await builtAndPushed('--set-current');
      const b = await workspace();
      expect((await b.run('pull', 'current')).code).toBe(0);
      b.write('out/gen/w1.txt', 'edited by hand\n');
      const refused = await b.run('pull', 'current');
      expect(refused.code).toBe(7);
      expect(refused.stderr).toContain('gen: out/gen/w1.txt (in out/gen)');
      expect(b.read('out/gen/w1.txt')).toBe('edited by hand\n');
      expect((await b.run('pull', 'current', '--force')).code).toBe(0);
      expect(b.read('out/gen/w1.txt')).toBe('beta\n');
      expect(json<{ stale: string[] }>(await b.run('status', '--json')).stale).toEqual([]);
    });

    it('fails a pull from a corrupted object, naming it, and writes nothing', async () => {
      store = await backend.store();
      await builtAndPushed('--set-current');
      await store.corrupt(sha256('beta\n'), Buffer.from('bets\n'));
      const b = await workspace();
      const r = await b.run('pull', 'current');
      expect(r.code).toBe(6);
      expect(r.stderr).toMatch(new RegExp(`object ${sha256('beta\n')}.* is corrupt`));
      expect(r.stderr).toContain('it holds out/gen/w1.txt; nothing was written to the workspace');
      expect(b.exists('out')).toBe(false);
      expect(b.exists('pipeline.lock')).toBe(false);
      expect(b.exists('.pipe/tmp') ? readdirSync(b.path('.pipe/tmp')) : []).toEqual([]);
    });

    it('remote build cache: workspace B builds nothing A already pushed, and says where the outputs came from', async () => {
      store = await backend.store();
      const { id } = await builtAndPushed();
      const b = await workspace();
      const built = await b.run('build');
      expect(built.code).toBe(0);
      expect(b.runs()).toEqual([]);
      expect(built.stdout).toContain(`gen: pulled from version ${id}`);
      expect(b.read('out/gen/w2.txt')).toBe('gamma\n');
      const lock = JSON.parse(b.read('pipeline.lock')) as {
        stages: Record<string, { source?: { version: string; pushedBy: string } }>;
      };
      expect(lock.stages.sum!.source).toMatchObject({ version: id });
      // Opting out, or a different input, runs locally.
      const c = await workspace();
      expect((await c.run('build', '--no-remote-cache')).code).toBe(0);
      expect(c.runs().sort()).toEqual(['gen', 'sum']);
    });

    it('builds locally, saying why, when the remote is unreachable', async () => {
      store = await backend.store();
      const b = await workspace('alpha beta gamma', {
        PIPE_REMOTE: 'gs://pipe-cli/x',
        PIPE_GCS_ENDPOINT: 'http://127.0.0.1:9',
      });
      const built = await b.run('build');
      expect(built.code).toBe(0);
      expect(b.runs().sort()).toEqual(['gen', 'sum']);
      expect(built.stderr).toMatch(
        /gen: remote cache not used \(remote gs:\/\/pipe-cli\/x is unreachable: .*ECONNREFUSED.*; stale stages run locally\)/,
      );
    });

    it('two workspaces pushing at the same moment: both versions exist, current moved by CAS wins only, nothing lost', async () => {
      store = await backend.store();
      const a = await workspace('one two');
      const b = await workspace('three four five');
      expect((await a.run('build')).code).toBe(0);
      expect((await b.run('build')).code).toBe(0);
      const [ra, rb] = await Promise.all([
        a.run('push', '--json', '--set-current'),
        b.run('push', '--json', '--set-current'),
      ]);
      type Pushed = {
        versionId: string;
        refs: { ref: string; result: string; versionId: string }[];
      };
      const pa = json<Pushed>(ra);
      const pb = json<Pushed>(rb);
      expect(pa.versionId).not.toBe(pb.versionId); // same user, maybe the same second: the ID moved on
      const walked = await walkStore(store.remote);
      expect(walked.versions.sort()).toEqual([pa.versionId, pb.versionId].sort());
      expect(walked.missing).toEqual([]);
      const current = await store.remote.readRef('current' as never);
      const at = current.ok ? current.value?.versionId : undefined;
      const movers = [pa, pb].filter((p) => p.refs[0]!.result === 'moved').map((p) => p.versionId);
      expect(movers.length).toBeGreaterThanOrEqual(1);
      // The ref ends where the last CAS winner put it; a loser that saw a newer version left it alone.
      expect(movers).toContain(at);
      for (const p of [pa, pb])
        if (p.refs[0]!.result === 'kept') expect(p.refs[0]!.versionId > p.versionId).toBe(true);
    });

    it('a push killed mid-upload: no version points at a missing object, and the re-push completes', async () => {
      store = await backend.store();
      const a = await workspace('alpha beta gamma', { BIG_MB: '48' });
      expect((await a.run('build')).code).toBe(0);
      const pushing = a.start(['push', '--set-current'], { env: { ...store.env } });
      await pushing.waitFor(/uploading \d+ files/);
      pushing.child.kill('SIGKILL');
      expect((await pushing.done).signal).toBe('SIGKILL');
      // Killed while uploading: objects may be there, but no manifest (it is written only after them).
      expect(await walkStore(store.remote)).toEqual({ versions: [], missing: [] });
      const again = await a.run('push', '--set-current');
      expect(again.code).toBe(0);
      const walked = await walkStore(store.remote);
      expect(walked.versions).toHaveLength(1);
      expect(walked.missing).toEqual([]);
      const b = await workspace();
      expect((await b.run('pull', 'current')).code).toBe(0);
      expect(sha256(readFileSync(b.path('out/gen/big.bin')))).toBe(
        sha256(Buffer.alloc(48 << 20, 'alpha')),
      );
    });
  });
}

describe.runIf(backends.some((b) => b.skip !== undefined))('backends not available here', () => {
  for (const b of backends.filter((x) => x.skip !== undefined)) {
    console.warn(`push-pull.test.ts: ${b.name} skipped: ${b.skip}`);
    it.skip(`${b.name}: skipped: ${b.skip}`, () => {});
  }
});
