// One suite of Remote behaviours, registered once per backend (remote-local.test.ts,
// remote-gcs-server.test.ts, remote-gcs-real.test.ts), so the file:// store, the GCS server
// fixture and a real bucket are held to the same contract. Expected hashes come from node:crypto
// over the bytes the test wrote, never from the code under test.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import type { RefState, Remote, RemoteResult } from '../lib/remote/remote.js';
import { makeVersionId, type RefName, type VersionId } from '../lib/remote/remote-path.js';

export interface RemoteFixture {
  /** A fresh, empty store opened through openRemote. */
  readonly remote: Remote;
  /** The same store opened a second time, as a teammate's process would. */
  readonly twin: Remote;
  /** A store on the same backend under another root/prefix: must share nothing with `remote`. */
  readonly neighbour: Remote;
  /** Replaces an object's stored bytes behind the Remote's back (a bad disk, a rogue writer). */
  replaceObjectBytes(sha: Sha256Hex, bytes: Buffer): Promise<void>;
  /** Writes a file/object at `key` (relative to the store's root/prefix) behind the Remote's back. */
  putRaw(key: string, text: string): Promise<void>;
  /** The key of a ref's current body, for putRaw (file:// keeps one file per generation). */
  rawRefKey(ref: RefName, generation: string): string;
  /** How many list requests the backend has answered, when it can tell. */
  listRequests?(): Promise<number>;
  cleanup(): Promise<void>;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex') as Sha256Hex;

function value<T>(result: RemoteResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
}

let versionSeconds = 0;
/** Distinct, valid, increasing version IDs (one second apart from a fixed start). */
function nextVersionId(user = 'tester'): VersionId {
  versionSeconds += 1;
  return makeVersionId(new Date(Date.UTC(2026, 0, 1, 0, 0, versionSeconds)), 'suite-host', user);
}

export function remoteSuite(backend: string, setup: () => Promise<RemoteFixture>): void {
  describe(`Remote contract: ${backend}`, () => {
    let fx: RemoteFixture;
    let scratch: string;

    beforeAll(async () => {
      fx = await setup();
      scratch = await mkdtemp(join(tmpdir(), 'remote-suite-'));
    });
    afterAll(async () => {
      await fx?.cleanup();
      await rm(scratch, { recursive: true, force: true });
    });

    /** A local file with random content, and its sha256 computed here. */
    async function localFile(
      bytes = randomBytes(2000),
    ): Promise<{ path: string; sha: Sha256Hex; size: number; bytes: Buffer }> {
      const path = join(scratch, `src-${randomBytes(6).toString('hex')}`);
      await writeFile(path, bytes);
      return { path, sha: sha256(bytes), size: bytes.length, bytes };
    }

    it('stores an object once: a re-put is "present", and hasObjects names exactly the stored ones', async () => {
      const a = await localFile();
      const missing = sha256('never uploaded');
      expect(value(await fx.remote.putObject(a.sha, a.path, a.size))).toBe('stored');
      expect(value(await fx.remote.putObject(a.sha, a.path, a.size))).toBe('present');
      expect(value(await fx.twin.putObject(a.sha, a.path, a.size))).toBe('present');
      expect(value(await fx.remote.hasObjects([a.sha, missing]))).toEqual(new Set([a.sha]));
    });

    it('lists objects with size and store time, and deletes one (a second delete is no error)', async () => {
      const before = Date.now() - 60_000; // clocks of a server and this process may differ a little
      const [a, b] = [await localFile(), await localFile(randomBytes(10))];
      value(await fx.remote.putObject(a.sha, a.path, a.size));
      value(await fx.remote.putObject(b.sha, b.path, b.size));
      // The store may hold other tests' objects: only these two are looked at.
      const ours = (list: readonly { sha: string }[]) =>
        list.filter((o) => o.sha === a.sha || o.sha === b.sha);
      const listed = ours(value(await fx.remote.listObjects())) as {
        sha: string;
        size: number;
        storedAtMs: number;
      }[];
      expect(listed.map((o) => [o.sha, o.size]).sort()).toEqual(
        [
          [a.sha, a.size],
          [b.sha, b.size],
        ].sort(),
      );
      for (const o of listed) expect(o.storedAtMs).toBeGreaterThan(before);
      value(await fx.remote.deleteObject(a.sha));
      value(await fx.remote.deleteObject(a.sha));
      expect(ours(value(await fx.remote.listObjects())).map((o) => o.sha)).toEqual([b.sha]);
      expect(value(await fx.remote.hasObjects([a.sha, b.sha]))).toEqual(new Set([b.sha]));
    });

    it('refuses to store bytes under a name they do not hash to, and stores nothing', async () => {
      const a = await localFile();
      const claimed = sha256('something else');
      const result = await fx.remote.putObject(claimed, a.path, a.size);
      expect(result).toMatchObject({ ok: false, error: { kind: 'corrupt', what: a.path } });
      expect(value(await fx.remote.hasObjects([claimed]))).toEqual(new Set());
      const out = join(scratch, 'never.bin');
      expect(await fx.remote.getObject(claimed, out)).toMatchObject({
        ok: false,
        error: { kind: 'not-found' },
      });
    });

    it('gets an object back byte for byte, creating parent folders', async () => {
      const a = await localFile(randomBytes(100_000));
      value(await fx.remote.putObject(a.sha, a.path, a.size));
      const dest = join(scratch, 'deep', 'er', 'copy.bin');
      expect(value(await fx.remote.getObject(a.sha, dest))).toEqual({ size: a.size });
      expect((await readFile(dest)).equals(a.bytes)).toBe(true);
    });

    it('detects an object corrupted on the backend: names it, writes nothing, leaves no temp file', async () => {
      const a = await localFile();
      value(await fx.remote.putObject(a.sha, a.path, a.size));
      await fx.replaceObjectBytes(a.sha, Buffer.from('tampered content of the same object name'));
      const folder = join(scratch, `corrupt-${randomBytes(4).toString('hex')}`);
      const result = await fx.remote.getObject(a.sha, join(folder, 'out.bin'));
      expect(result).toMatchObject({ ok: false, error: { kind: 'corrupt' } });
      if (!result.ok) expect(JSON.stringify(result.error)).toContain(a.sha);
      expect(await readdir(folder)).toEqual([]);
    });

    it('answers not-found for an object, a version and (as null) a ref that do not exist', async () => {
      const nothing = sha256(randomBytes(8));
      expect(await fx.remote.getObject(nothing, join(scratch, 'x'))).toMatchObject({
        ok: false,
        error: { kind: 'not-found' },
      });
      expect(await fx.remote.getManifest(nextVersionId())).toMatchObject({
        ok: false,
        error: { kind: 'not-found' },
      });
      expect(value(await fx.remote.readRef('no-such-ref' as RefName))).toBeNull();
    });

    it('survives concurrent puts of the same object: exactly one stores it, the rest see it present', async () => {
      const a = await localFile(randomBytes(300_000));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 === 0 ? fx.remote : fx.twin).putObject(a.sha, a.path, a.size),
        ),
      );
      const outcomes = results.map(value).sort();
      expect(outcomes).toEqual([
        'present',
        'present',
        'present',
        'present',
        'present',
        'present',
        'present',
        'stored',
      ]);
      const dest = join(scratch, 'concurrent.bin');
      value(await fx.remote.getObject(a.sha, dest));
      expect(sha256(await readFile(dest))).toBe(a.sha);
    });

    it('writes manifests create-only: same bytes are "present", different bytes are refused', async () => {
      const id = nextVersionId();
      const manifest = JSON.stringify({ id, stages: {} });
      expect(value(await fx.remote.putManifest(id, manifest))).toBe('stored');
      expect(value(await fx.twin.putManifest(id, manifest))).toBe('present');
      expect(await fx.remote.putManifest(id, `${manifest} `)).toMatchObject({
        ok: false,
        error: { kind: 'exists' },
      });
      expect(value(await fx.remote.getManifest(id))).toBe(manifest);
    });

    it('lists every version in order across several pages, ignoring foreign files', async () => {
      const ids = Array.from({ length: 25 }, () => nextVersionId('lister'));
      const before = (await fx.listRequests?.()) ?? 0;
      for (const id of [...ids].reverse()) value(await fx.remote.putManifest(id, `{"id":"${id}"}`));
      await fx.putRaw('versions/not-a-version.json', '{}');
      await fx.putRaw('versions/README', 'hello');
      const listed = value(await fx.twin.listVersions()).filter((id) => id.endsWith('-lister'));
      expect(listed).toEqual(ids); // nextVersionId is increasing, so creation order is sort order
      if (fx.listRequests !== undefined) {
        // 25 lister versions + the rest, 10 per page (the GCS fixtures force small pages).
        expect((await fx.listRequests()) - before).toBeGreaterThanOrEqual(3);
      }
    });

    it('reports which of many objects across all fan-out folders are present', async () => {
      const files = await Promise.all(Array.from({ length: 40 }, () => localFile(randomBytes(64))));
      const stored = files.filter((_, i) => i % 3 !== 0);
      await Promise.all(stored.map((f) => fx.remote.putObject(f.sha, f.path, f.size).then(value)));
      const present = value(await fx.twin.hasObjects(files.map((f) => f.sha)));
      expect(present).toEqual(new Set(stored.map((f) => f.sha)));
    });

    it('moves a ref only from the generation it was read at', async () => {
      const ref = `tag-${randomBytes(3).toString('hex')}` as RefName;
      const [v1, v2, v3] = [nextVersionId(), nextVersionId(), nextVersionId()];
      const first = value(await fx.remote.casRef(ref, v1, null));
      expect(first.versionId).toBe(v1);
      expect(await fx.twin.casRef(ref, v2, null)).toEqual({
        ok: false,
        error: { kind: 'conflict', ref, current: first },
      });
      const second = value(await fx.twin.casRef(ref, v2, first.generation));
      expect(second.generation).not.toBe(first.generation);
      expect(await fx.remote.casRef(ref, v3, first.generation)).toEqual({
        ok: false,
        error: { kind: 'conflict', ref, current: second },
      });
      expect(value(await fx.remote.readRef(ref))).toEqual(second);
      expect(value(await fx.remote.listRefs()).get(ref)).toEqual(second);
    });

    it('lets exactly one of many racing writers win a generation, and loses nobody who retries', async () => {
      const ref = `race-${randomBytes(3).toString('hex')}` as RefName;
      const start = value(await fx.remote.casRef(ref, nextVersionId('start'), null));
      const writers = Array.from({ length: 10 }, (_, i) => ({
        remote: i % 2 === 0 ? fx.remote : fx.twin,
        id: nextVersionId(`w${i}`),
      }));
      // Round one: everyone read `start` and tries to move from it at once.
      const round = await Promise.all(
        writers.map((w) => w.remote.casRef(ref, w.id, start.generation)),
      );
      const winners = round.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const won = value(winners[0]!);
      for (const r of round.filter((r) => !r.ok))
        expect(r).toEqual({ ok: false, error: { kind: 'conflict', ref, current: won } });
      // Then every loser re-reads and retries until it lands: all land, each on its own
      // generation, and the moves form one chain (each generation was moved from exactly once).
      const moves: Array<{ from: string; to: RefState }> = [{ from: start.generation, to: won }];
      await Promise.all(
        writers
          .filter((w) => w.id !== won.versionId)
          .map(async (w) => {
            for (;;) {
              const current = value(await w.remote.readRef(ref));
              const attempt = await w.remote.casRef(ref, w.id, current!.generation);
              if (attempt.ok)
                return void moves.push({ from: current!.generation, to: attempt.value });
              expect(attempt.error.kind).toBe('conflict');
            }
          }),
      );
      expect(new Set(moves.map((m) => m.to.versionId)).size).toBe(writers.length);
      const froms = moves.map((m) => m.from);
      expect(new Set(froms).size).toBe(writers.length); // no generation moved twice: no lost update
      const final = value(await fx.remote.readRef(ref))!;
      const tos = moves.map((m) => m.to.generation);
      // Every generation but the final one was moved from; the start was moved from too.
      expect([...froms].sort()).toEqual(
        [start.generation, ...tos.filter((g) => g !== final.generation)].sort(),
      );
      expect(moves.map((m) => m.to)).toContainEqual(final);
    });

    it('reports a ref holding something that is not a version ID as corrupt', async () => {
      const ref = `odd-${randomBytes(3).toString('hex')}` as RefName;
      const state = value(await fx.remote.casRef(ref, nextVersionId(), null));
      await fx.putRaw(
        fx.rawRefKey(ref, state.generation),
        JSON.stringify({ version: '../../etc/passwd' }),
      );
      expect(await fx.remote.readRef(ref)).toMatchObject({
        ok: false,
        error: { kind: 'corrupt', what: `ref ${ref}` },
      });
    });

    it('keeps everything under its own root or prefix', async () => {
      const a = await localFile();
      value(await fx.remote.putObject(a.sha, a.path, a.size));
      expect(value(await fx.neighbour.hasObjects([a.sha]))).toEqual(new Set());
      expect(value(await fx.neighbour.listVersions())).toEqual([]);
      expect(value(await fx.neighbour.listRefs()).size).toBe(0);
    });
  });
}
