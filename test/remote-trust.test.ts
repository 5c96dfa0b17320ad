// Issue 13, "the remote build cache trusts whoever can write to the bucket": an attacker with write
// access to the remote (and nothing else) tries to get a teammate's build or pull to use bytes it
// chose, or to write outside the stage's outs. Through the real CLI in temp folders, against the
// file:// store and the GCS server fixture (and a real bucket when configured).
//
// Each hostile version is made the way an attacker would: a published manifest read back, edited,
// and written under a new (newer) ID, its objects uploaded through the Remote interface. Expected
// bytes are the ones the stage scripts write (gen-sum.ts), hashed here with node:crypto.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { backends, type Store } from './helpers/remote-backends.js';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { makeTestKey, signedManifestText, type TestKey } from './helpers/signing.js';
import { tempWorkspace, type RunResult, type TempWorkspace } from './helpers/workspace.js';

const sha256 = (text: string | Buffer): Sha256Hex =>
  createHash('sha256').update(text).digest('hex') as Sha256Hex;

type Manifest = {
  id: string;
  notes: string;
  pushedBy: string;
  signature?: { publicKey: string; value: string };
  stages: Record<
    string,
    {
      lock: { fingerprint: string; outs: Record<string, { sha256: string; size: number }> };
      files: { path: string; sha256: string; size: number }[];
    }
  >;
};

/** The characters the nasty text below holds, raw: none may reach the terminal. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
const RAW_CONTROLS = /[\u001b\u0007\u009b\u202e]/;

const team = makeTestKey();
const stranger = makeTestKey();
/** A config dir with no key in it: the developer's own ~/.config/pipe never leaks into a test. */
const noKeyHome = mkdtempSync(join(tmpdir(), 'pipe-nokey-'));
afterAll(() => rmSync(noKeyHome, { recursive: true, force: true }));

interface Teammate extends TempWorkspace {
  run(...args: string[]): Promise<RunResult>;
}

for (const backend of backends) {
  describe.skipIf(backend.skip !== undefined)(
    `trust in published versions: ${backend.name}`,
    () => {
      beforeAll(() => backend.start());
      afterAll(() => backend.stop());
      let store: Store;

      /** A workspace on the store that trusts `trusts` and signs its pushes with `signs`. */
      async function teammate(
        options: { trusts?: TestKey[]; signs?: TestKey; env?: Record<string, string> } = {},
      ): Promise<Teammate> {
        const files: Record<string, string> = {
          ...GEN_SUM_SOURCES,
          'data/in.txt': 'alpha beta gamma\n',
        };
        for (const [i, k] of (options.trusts ?? []).entries())
          files[`config/trusted-keys/${k === team ? 'team' : `key${i}`}.pub`] =
            k.pubLine('the team CI');
        const ws = await tempWorkspace(files);
        const env = {
          ...store.env,
          XDG_CONFIG_HOME: noKeyHome,
          ...(options.signs === undefined ? {} : { PIPE_SIGNING_KEY: options.signs.path }),
          ...options.env,
        };
        return Object.assign(ws, { run: (...args: string[]) => ws.pipeWith({ env }, ...args) });
      }

      async function pushed(ws: Teammate, ...args: string[]): Promise<Manifest> {
        expect((await ws.run('build')).code).toBe(0);
        const r = await ws.run('push', '--json', ...args);
        expect(r.code, r.stderr).toBe(0);
        const id = (JSON.parse(r.stdout) as { versionId: string }).versionId;
        ws.clearRuns();
        return readManifest(id);
      }

      async function readManifest(id: string): Promise<Manifest> {
        const text = await store.remote.getManifest(id as never);
        if (!text.ok) throw new Error(JSON.stringify(text.error));
        return JSON.parse(text.value) as Manifest;
      }

      /** An attacker's object: uploaded under its true sha256 (the remote checks that much). */
      async function plant(bytes: string): Promise<{ sha256: Sha256Hex; size: number }> {
        const dir = mkdtempSync(join(tmpdir(), 'pipe-plant-'));
        const file = join(dir, 'x');
        writeFileSync(file, bytes);
        const sha = sha256(bytes);
        const put = await store.remote.putObject(sha, file, Buffer.byteLength(bytes));
        expect(put.ok).toBe(true);
        rmSync(dir, { recursive: true });
        return { sha256: sha, size: Buffer.byteLength(bytes) };
      }

      let attack = 0;
      /** Writes `m` as a new version with a newer ID than anything pushed; `text` overrides the bytes. */
      async function publish(m: Manifest, text?: (m: Manifest) => string): Promise<string> {
        attack++;
        const id = `2099-01-01_00-00-${String(attack).padStart(2, '0')}_attacker`; // the pre-millisecond form: every pipe reads it
        const body = { ...m, id };
        const put = await store.remote.putManifest(
          id as never,
          text === undefined ? JSON.stringify(body) : text(body),
        );
        expect(put.ok, JSON.stringify(put)).toBe(true);
        return id;
      }

      /** The version with sum's output replaced by "pwned\n", its lock entry edited to match. */
      async function poisonedSum(m: Manifest): Promise<Manifest> {
        const evil = await plant('pwned\n');
        const copy = structuredClone(m);
        copy.stages.sum!.files = [{ path: 'out/sum.txt', ...evil }];
        copy.stages.sum!.lock.outs['out/sum.txt'] = { ...evil };
        return copy;
      }

      it('a build reuses only versions a trusted key signed, says whose, and never a poisoned one', async () => {
        store = await backend.store();
        const a = await teammate({ trusts: [team], signs: team });
        const legit = await pushed(a);
        const poisoned = await poisonedSum(legit);
        const { signature: _s, ...unsignedPoison } = poisoned;
        const unsignedId = await publish(unsignedPoison as Manifest);
        const tamperedId = await publish(poisoned, (m) => `${JSON.stringify(m, null, 1)}\n`); // legit signature kept
        const strangerId = await publish(poisoned, (m) => signedManifestText(m, stranger));

        const b = await teammate({ trusts: [team] });
        const built = await b.run('build');
        expect(built.code, built.stderr).toBe(0);
        expect(b.read('out/sum.txt')).toBe('3 files\n');
        expect(b.runs()).toEqual([]);
        expect(built.stdout).toContain(
          `sum: pulled from version ${legit.id} (pushed by ${legit.pushedBy}, signed by key team (the team CI, ed25519:`,
        );
        // The newer hostile versions are not even mentioned: a trusted one holds the fingerprint.
        for (const id of [unsignedId, tamperedId, strangerId])
          expect(built.stdout + built.stderr).not.toContain(id);

        // With only the attacker's versions on a store, the build runs the stage and names why.
        store = await backend.store();
        const c = await teammate({ trusts: [team] });
        const copy = await poisonedSum(legit);
        await publish(copy, (m) => `${JSON.stringify(m, null, 1)}\n`);
        const lone = await publish(copy, (m) => signedManifestText(m, stranger));
        const again = await c.run('build');
        expect(again.code, again.stderr).toBe(0);
        expect(c.read('out/sum.txt')).toBe('3 files\n');
        expect(c.runs().sort()).toEqual(['gen', 'sum']);
        expect(again.stderr).toContain(
          `sum: remote cache not used (version ${lone} holds this stage's outputs but is signed by ed25519:`,
        );
        expect((await c.run('status', '--json')).code).toBe(0);
      });

      it('a version writes only the outs this pipeline.yaml declares, even when a trusted key signed it', async () => {
        store = await backend.store();
        const a = await teammate({ trusts: [team], signs: team });
        const legit = await pushed(a);
        // gen's fingerprint is genuine, its outs are the victim's own script (signed: a trusted
        // teammate's different pipeline.yaml, or a leaked key, must not be enough either).
        const evil = await plant('console.log("owned"); process.exit(0);\n');
        const hostile = structuredClone(legit);
        hostile.stages.gen!.lock.outs = { 'stages/gen.mjs': { ...evil } };
        hostile.stages.gen!.files = [{ path: 'stages/gen.mjs', ...evil }];
        const id = await publish(hostile, (m) => signedManifestText(m, team));

        const b = await teammate({ trusts: [team] });
        const built = await b.run('build');
        expect(built.code, built.stderr).toBe(0);
        expect(b.read('stages/gen.mjs')).toBe(GEN_SUM_SOURCES['stages/gen.mjs']);
        expect(built.stderr).toContain(
          `gen: remote cache not used (version ${id} declares gen's outs as stages/gen.mjs, but pipeline.yaml declares out/gen; running it locally)`,
        );
        expect(b.runs()).toContain('gen');
        const pulled = await b.run('pull', id);
        expect(pulled.code).toBe(7);
        expect(pulled.stderr).toContain(
          `stage gen writes out/gen here, but in version ${id} it wrote stages/gen.mjs`,
        );
        expect(b.read('stages/gen.mjs')).toBe(GEN_SUM_SOURCES['stages/gen.mjs']);
      });

      it('pull refuses unsigned, unknown-key and edited versions (exit 9); --accept-untrusted takes the first two only', async () => {
        store = await backend.store();
        const a = await teammate({ trusts: [team] });
        const unsigned = await pushed(a, '--notes', 'no key');
        const bySigned = await teammate({ trusts: [team], signs: team });
        const signed = await pushed(bySigned, '--notes', 'team key');
        const byStranger = await teammate({ signs: stranger });
        const strangers = await pushed(byStranger, '--notes', 'stranger key');
        const edited = await publish(
          { ...signed, notes: 'edited after signing' },
          (m) => `${JSON.stringify(m, null, 1)}\n`,
        );

        // The pushed signature checks out by the documented scheme, computed here independently.
        const { signature, ...rest } = signed;
        expect(signature?.publicKey).toBe(team.publicKey);
        const key = createPublicKey({
          key: { kty: 'OKP', crv: 'Ed25519', x: team.publicKey },
          format: 'jwk',
        });
        const body = Buffer.from(`pipe version manifest v1\n${JSON.stringify(rest, null, 1)}\n`);
        expect(verify(null, body, key, Buffer.from(signature!.value, 'base64url'))).toBe(true);

        const b = await teammate({ trusts: [team] });
        for (const [id, why] of [
          [unsigned.id, 'is unsigned'],
          [strangers.id, 'is signed by ed25519:'],
          [edited, 'was edited after signing'],
        ] as const) {
          const r = await b.run('pull', id);
          expect(r.code, r.stderr).toBe(9);
          expect(r.stderr).toContain(`pipe pull: refused: version ${id} ${why}`);
          expect(b.exists('out')).toBe(false);
        }
        const forced = await b.run('pull', edited, '--accept-untrusted');
        expect(forced.code).toBe(9); // an edited version is never taken
        const knowingly = await b.run('pull', strangers.id, '--accept-untrusted');
        expect(knowingly.code, knowingly.stderr).toBe(0);
        expect(knowingly.stderr).toContain('pulled because of --accept-untrusted');
        const ok = await b.run('pull', signed.id, '--json');
        expect(ok.code, ok.stderr).toBe(0);
        expect(JSON.parse(ok.stdout)).toMatchObject({ trust: 'trusted', signedBy: 'team' });
        expect(b.read('out/sum.txt')).toBe('3 files\n');

        const listed = await b.run('versions');
        expect(listed.stdout).toContain('signature: trusted, key team (the team CI, ed25519:');
        expect(listed.stdout).toContain('signature: none (not reused by builds');
        expect(listed.stdout).toContain('signature: DOES NOT MATCH the content');
      });

      it('an object longer than its manifest says stops at size + 1 bytes (an endless one too)', async () => {
        store = await backend.store();
        const a = await teammate({ trusts: [team], signs: team });
        await pushed(a, '--set-current');
        const beta = sha256('beta\n');
        const root = store.env.PIPE_REMOTE!.startsWith('file://')
          ? store.env.PIPE_REMOTE!.slice('file://'.length)
          : undefined;
        if (root !== undefined) {
          const object = join(root, 'objects', beta.slice(0, 2), beta);
          rmSync(object);
          symlinkSync('/dev/zero', object);
        } else await store.corrupt(beta, Buffer.alloc(4 << 20));
        const b = await teammate({ trusts: [team] });
        const pulling = b.start(['pull', 'current'], {
          env: { ...store.env, XDG_CONFIG_HOME: noKeyHome },
        });
        // Before the fix this pull wrote /dev/zero until the disk was full: never let it.
        const guard = setTimeout(() => pulling.child.kill('SIGKILL'), 60_000);
        const r = await pulling.done;
        clearTimeout(guard);
        expect(r.code, r.stderr).toBe(6);
        expect(r.stderr).toMatch(
          new RegExp(`object ${beta}.* is corrupt: expected 5 bytes, got more: stopped at byte 6`),
        );
        expect(r.stderr).toContain('it holds out/gen/w1.txt; nothing was written to the workspace');
        expect(b.exists('out')).toBe(false);
      });

      it.runIf(backend.name === 'file://')(
        'a manifest that never ends is refused at its cap, not read into memory',
        async () => {
          store = await backend.store();
          const root = store.env.PIPE_REMOTE!.slice('file://'.length);
          const id = '2099-01-01_00-00-00_attacker';
          mkdirSync(join(root, 'versions'), { recursive: true });
          symlinkSync('/dev/zero', join(root, 'versions', `${id}.json`));
          const b = await teammate({ trusts: [team] });
          const listing = b.start(['versions'], {
            env: { ...store.env, XDG_CONFIG_HOME: noKeyHome },
          });
          const guard = setTimeout(() => listing.child.kill('SIGKILL'), 60_000);
          const r = await listing.done;
          clearTimeout(guard);
          expect(r.code).toBe(6);
          expect(r.stdout).toContain(
            `unreadable version ${id}: version ${id} is corrupt: expected at most 268435456 bytes, got more; reading stopped there`,
          );
        },
      );

      it('prints terminal escapes in notes, names and paths escaped', async () => {
        store = await backend.store();
        const nasty = 'ok\u001b]0;owned\u0007\u001b[2J\u009b31m\u202eevil';
        const a = await teammate({
          trusts: [team],
          signs: team,
          env: { PIPE_USER: `eve${nasty}` },
        });
        await pushed(a, '--set-current', '--notes', nasty);
        const b = await teammate({ trusts: [team] });
        const outputs = [
          await b.run('versions'),
          await b.run('versions', 'show', 'current'),
          await b.run('pull', 'current'),
        ];
        for (const r of outputs) {
          expect(r.code, r.stderr).toBe(0);
          const all = r.stdout + r.stderr;
          expect(all).not.toMatch(RAW_CONTROLS);
          expect(all).toContain('eveok\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil@');
        }
        expect(outputs[0]!.stdout).toContain(
          'notes: ok\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil',
        );
        const c = await teammate({ trusts: [team] });
        const built = await c.run('build');
        expect(built.stdout).toContain('pushed by eveok\\x1b]0;owned');
        expect(built.stdout).not.toMatch(RAW_CONTROLS);
      });

      it('with no trusted keys a build does not look at the remote, and says so once', async () => {
        store = await backend.store();
        const a = await teammate({ trusts: [team], signs: team });
        await pushed(a);
        const b = await teammate();
        const before = (await store.requests?.())?.length;
        const built = await b.run('build');
        expect(built.code, built.stderr).toBe(0);
        expect(b.runs().sort()).toEqual(['gen', 'sum']);
        const said = built.stderr.split('\n').filter((l) => l.includes('remote cache not used'));
        expect(said).toEqual([
          'gen: remote cache not used (no keys in config/trusted-keys/, so no published version is trusted (docs/threat-model.md); stale stages run locally)',
        ]);
        if (before !== undefined) expect((await store.requests!()).length).toBe(before);
      });
    },
  );
}
