// Issue 13, "Versions": IDs stay unique, readable and never ahead of the clock however fast one
// user@host pushes, and `current` means the NEWEST version any push asked for: racing
// `--set-current` pushes leave it there whatever order their requests land in, and a late move to
// an older version leaves it alone. Real CLI (and moveRef in-process) against file:// and the GCS
// server fixture.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moveRef } from '../lib/versions/ref-move.js';
import { backends, walkStore, type Store } from './helpers/remote-backends.js';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace } from './helpers/workspace.js';

/** The time an ID names (`-mmm` optional, as pipe before milliseconds wrote them), read here with a regex of its own. */
function idTime(id: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})_(\d{2})-(\d{2})-(\d{2})(?:-(\d{3}))?_[a-z0-9-]+$/.exec(id);
  if (m === null) throw new Error(`${id} is not YYYY-MM-DD_HH-MM-SS-mmm_<host>-<user>`);
  return Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5] ?? '000'}Z`);
}

type Pushed = { versionId: string; refs: { ref: string; result: string; versionId: string }[] };

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(`version IDs and current: ${backend.name}`, () => {
    beforeAll(() => backend.start());
    afterAll(() => backend.stop());
    let store: Store;

    it('twelve pushes by one user@host at once: twelve IDs, none ahead of the clock, current at the newest', async () => {
      store = await backend.store();
      const env = { ...store.env, PIPE_USER: 'ann' };
      const spaces = await Promise.all(
        ['one two', 'three four', 'five six'].map(async (words) => {
          const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': `${words}\n` });
          expect((await ws.pipeWith({ env }, 'build')).code).toBe(0);
          return ws;
        }),
      );
      // Four pushes per workspace (they queue on its build mutex), three workspaces in parallel.
      const runs = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const started = Date.now();
          const r = await spaces[i % 3]!.pipeWith(
            { env },
            'push',
            '--json',
            '--set-current',
            '--notes',
            `push ${i}`,
          );
          return { r, started, ended: Date.now() };
        }),
      );
      const pushed = runs.map(({ r }) => {
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stdout) as Pushed;
      });
      const ids = pushed.map((p) => p.versionId);
      expect(new Set(ids).size).toBe(12);
      for (const [i, { started, ended }] of runs.entries()) {
        const t = idTime(ids[i]!);
        expect(t).toBeGreaterThanOrEqual(started - 1);
        expect(t).toBeLessThanOrEqual(ended);
      }
      const root = store.env.PIPE_REMOTE!.startsWith('file://')
        ? store.env.PIPE_REMOTE!.slice('file://'.length)
        : undefined;
      // Never ahead of the moment the manifest came to exist (the file's mtime; the kernel's
      // coarse clock may trail the process's by a few ms).
      if (root !== undefined)
        for (const id of ids)
          expect(idTime(id)).toBeLessThanOrEqual(
            statSync(join(root, 'versions', `${id}.json`)).mtimeMs + 20,
          );
      expect((await walkStore(store.remote)).versions).toHaveLength(12);
      const newest = [...ids].sort((a, b) => idTime(a) - idTime(b)).at(-1);
      const current = await store.remote.readRef('current' as never);
      expect(current.ok && current.value?.versionId).toBe(newest);
      for (const p of pushed) {
        const move = p.refs[0]!;
        if (move.result === 'kept')
          expect(idTime(move.versionId)).toBeGreaterThan(idTime(p.versionId));
        else expect(move.result).toBe('moved');
      }
    });

    it('a move of current to an older version, arriving late, leaves it at the newer one', async () => {
      store = await backend.store();
      // The pre-millisecond form, which every pipe reads (and orders the same).
      const older = '2026-12-01_10-00-00_host-ann' as never;
      const newer = '2026-12-01_10-00-01_host-bob' as never;
      const first = await moveRef(store.remote, 'current' as never, newer);
      expect(first).toEqual({
        ok: true,
        value: { ref: 'current', result: 'moved', versionId: newer },
      });
      const late = await moveRef(store.remote, 'current' as never, older);
      expect(late).toEqual({
        ok: true,
        value: { ref: 'current', result: 'kept', versionId: newer },
      });
      const at = await store.remote.readRef('current' as never);
      expect(at.ok && at.value?.versionId).toBe(newer);
    });
  });
}
