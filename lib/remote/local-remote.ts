// The file:// remote: a real store in a folder (a shared disk, a NAS mount, or a folder for
// tests). Layout under the root, as remote.ts describes, except that a ref is a folder of
// generations: refs/<name>/<000000000007>.json, the highest number being where it points.
//
// Why this is safe across processes with no lock to go stale:
// - Every file is first written in full to a temp name in its final folder, then published with
//   link(temp, final). link() fails with EEXIST if `final` exists, atomically, on every POSIX
//   filesystem (NFS included, where O_EXCL historically was not). So create-only is one syscall
//   and a reader never sees a half-written file.
// - Moving a ref from generation g to g+1 is create-only of file g+1, after checking that g
//   exists. Files are never deleted, so "g exists and g+1 did not" means the ref was at g: of
//   many writers racing from g, exactly one link() succeeds; the rest get EEXIST = conflict.
//   A writer killed at any point leaves at most a temp file, never a half-moved ref.
import { createReadStream } from 'node:fs';
import { link, mkdir, readdir, readFile, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Sha256Hex } from '../util/sha256.js';
import {
  done,
  failed,
  InvalidRef,
  parseRefBody,
  refBody,
  type Remote,
  type RefState,
  type RemoteError,
  type RemoteResult,
  type StoredObject,
} from './remote.js';
import {
  compareVersionIds,
  parseRefName,
  remoteKeys,
  versionIdOfFile,
  type RefName,
  type VersionId,
} from './remote-path.js';
import {
  MAX_MANIFEST_BYTES,
  MAX_REF_BYTES,
  readCapped,
  TooLarge,
  tempPathBeside,
  writeVerified,
} from './verified-file.js';

const GENERATION_FILE = /^(\d{12})\.json$/;
/** The temp name verified-file.ts gives a file before it is published: `.<name>.tmp-<pid>-<hex>`. */
const REMOTE_TEMP = /^\..+\.tmp-\d+-[0-9a-f]{8}$/;

export class LocalRemote implements Remote {
  constructor(
    readonly root: string,
    readonly url: string,
  ) {}

  async hasObjects(shas: readonly Sha256Hex[]): Promise<RemoteResult<Set<Sha256Hex>>> {
    return this.#guard(async () => {
      const wanted = new Set(shas);
      const present = new Set<Sha256Hex>();
      // One readdir per fan-out folder touched (at most 256), not one stat per object.
      for (const twoHex of new Set(shas.map((s) => s.slice(0, 2)))) {
        for (const name of await readdirOrEmpty(this.#path(remoteKeys.objectsFolder('', twoHex)))) {
          if (wanted.has(name as Sha256Hex)) present.add(name as Sha256Hex);
        }
      }
      return done(present);
    });
  }

  async putObject(
    sha: Sha256Hex,
    localPath: string,
    size: number,
  ): Promise<RemoteResult<'stored' | 'present'>> {
    return this.#guard(async () => {
      const final = this.#path(remoteKeys.object('', sha));
      if (await exists(final)) return done('present');
      let present = false;
      let written: Awaited<ReturnType<typeof writeVerified>>;
      try {
        written = await writeVerified(createReadStream(localPath), sha, final, async (temp) => {
          present = !(await linkOnce(temp, final));
        });
      } catch (error) {
        if (isErrno(error, 'ENOENT') && (error as NodeJS.ErrnoException).path === localPath) {
          return failed({ kind: 'not-found', what: `local file ${localPath}` });
        }
        throw error;
      }
      if (!written.ok) return failed(corrupt(localPath, written.error));
      if (!present && written.value !== size) {
        // Hash matched but size did not: the caller's record is wrong, the object is still right.
        return failed({
          kind: 'corrupt',
          what: localPath,
          expected: `${size} bytes`,
          actual: `${written.value} bytes`,
        });
      }
      return done(present ? 'present' : 'stored');
    }, true);
  }

  async getObject(
    sha: Sha256Hex,
    destPath: string,
    size?: number,
  ): Promise<RemoteResult<{ size: number }>> {
    return this.#guard(async () => {
      const source = this.#path(remoteKeys.object('', sha));
      if (!(await exists(source))) return failed({ kind: 'not-found', what: `object ${sha}` });
      const written = await writeVerified(createReadStream(source), sha, destPath, undefined, size);
      if (!written.ok) return failed(corrupt(`object ${sha} at ${source}`, written.error));
      return done({ size: written.value });
    });
  }

  async putManifest(id: VersionId, json: string): Promise<RemoteResult<'stored' | 'present'>> {
    return this.#guard(async () => {
      const final = this.#path(remoteKeys.version('', id));
      if (await this.#publish(final, json)) return done('stored');
      const existing = await readFile(final, 'utf8');
      return existing === json
        ? done('present')
        : failed({ kind: 'exists', what: `version ${id}` });
    }, true);
  }

  async getManifest(id: VersionId): Promise<RemoteResult<string>> {
    return this.#guard(async () => {
      try {
        const path = this.#path(remoteKeys.version('', id));
        return done(await readCapped(createReadStream(path), MAX_MANIFEST_BYTES));
      } catch (error) {
        if (isErrno(error, 'ENOENT')) return failed({ kind: 'not-found', what: `version ${id}` });
        if (error instanceof TooLarge) return failed(tooLarge(error, `version ${id}`));
        throw error;
      }
    });
  }

  async listVersions(): Promise<RemoteResult<VersionId[]>> {
    return this.#guard(async () => {
      const names = await readdirOrEmpty(this.#path(remoteKeys.versionsFolder('')));
      return done(names.flatMap((name) => versionIdOfFile(name) ?? []).sort(compareVersionIds));
    });
  }

  async readRef(name: RefName): Promise<RemoteResult<RefState | null>> {
    return this.#guard(async () => done(await this.#readRef(name)));
  }

  async casRef(
    name: RefName,
    versionId: VersionId,
    expected: string | null,
  ): Promise<RemoteResult<RefState>> {
    return this.#guard(async () => {
      const folder = this.#refFolder(name);
      if (
        expected !== null &&
        !(
          GENERATION_FILE.test(`${expected}.json`) &&
          (await exists(join(folder, `${expected}.json`)))
        )
      ) {
        return failed({ kind: 'conflict', ref: name, current: await this.#readRef(name) });
      }
      const generation = String((expected === null ? 0 : Number(expected)) + 1).padStart(12, '0');
      if (await this.#publish(join(folder, `${generation}.json`), refBody(versionId))) {
        return done({ versionId, generation });
      }
      return failed({ kind: 'conflict', ref: name, current: await this.#readRef(name) });
    }, true);
  }

  async listRefs(): Promise<RemoteResult<Map<RefName, RefState>>> {
    return this.#guard(async () => {
      const refs = new Map<RefName, RefState>();
      for (const entry of (await readdirOrEmpty(this.#path(remoteKeys.refsFolder('')))).sort()) {
        const name = parseRefName(entry);
        if (!name.ok) continue;
        const state = await this.#readRef(name.value);
        if (state !== null) refs.set(name.value, state);
      }
      return done(refs);
    });
  }

  async listObjects(): Promise<RemoteResult<StoredObject[]>> {
    return this.#guard(async () => {
      const found: StoredObject[] = [];
      const top = this.#path(remoteKeys.objectsFolder(''));
      for (const twoHex of (await readdirOrEmpty(top)).sort()) {
        if (!/^[0-9a-f]{2}$/.test(twoHex)) continue;
        for (const name of (await readdirOrEmpty(join(top, twoHex))).sort()) {
          if (!/^[0-9a-f]{64}$/.test(name)) continue; // a temp file of a push in flight
          const st = await stat(join(top, twoHex, name));
          found.push({ sha: name as Sha256Hex, size: st.size, storedAtMs: st.mtimeMs });
        }
      }
      return done(found);
    });
  }

  async deleteObject(sha: Sha256Hex): Promise<RemoteResult<void>> {
    return this.#guard(async () => {
      await rm(this.#path(remoteKeys.object('', sha)), { force: true });
      return done(undefined);
    });
  }

  async #readRef(name: RefName): Promise<RefState | null> {
    const generations = (await readdirOrEmpty(this.#refFolder(name)))
      .filter((f) => GENERATION_FILE.test(f))
      .sort();
    const latest = generations.at(-1);
    if (latest === undefined) return null;
    const versionId = parseRefBody(
      name,
      await readCapped(createReadStream(join(this.#refFolder(name), latest)), MAX_REF_BYTES),
    );
    return { versionId, generation: latest.slice(0, -'.json'.length) };
  }

  async removeStaleTemps(graceMs: number): Promise<RemoteResult<string[]>> {
    return this.#guard(async () => {
      const removed: string[] = [];
      const now = Date.now();
      // Temps sit beside what they publish: objects/<aa>/, versions/ and refs/<name>/.
      const sweep = async (key: string, depth: number): Promise<void> => {
        for (const name of await readdirOrEmpty(this.#path(key))) {
          const child = key === '' ? name : `${key}/${name}`;
          const info = await stat(this.#path(child)).catch(() => undefined);
          if (info === undefined) continue;
          if (info.isDirectory()) {
            if (depth < 2) await sweep(child, depth + 1);
          } else if (REMOTE_TEMP.test(name) && now - info.mtimeMs >= graceMs) {
            await rm(this.#path(child), { force: true });
            removed.push(child);
          }
        }
      };
      await sweep('', 0);
      return done(removed.sort());
    });
  }

  /** Writes `text` to a temp file, then link()s it to `final`. false when `final` already existed. */
  async #publish(final: string, text: string): Promise<boolean> {
    await mkdir(join(final, '..'), { recursive: true });
    const temp = tempPathBeside(final);
    try {
      await writeFile(temp, text, { flag: 'wx' });
      return await linkOnce(temp, final);
    } finally {
      await rm(temp, { force: true });
    }
  }

  #refFolder(name: RefName): string {
    return this.#path(remoteKeys.refsFolder('') + name);
  }

  #path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  /**
   * Maps the failures a folder can have to values; anything else is a bug and propagates.
   * A root that does not exist yet, in a folder that does, is an empty store: reads find nothing
   * and the first write (`writes`) creates it, so the default `file://../pipe-remote` needs no
   * setup. A missing parent stays unreachable: an unmounted disk must not look like an empty
   * store, and a typo must not grow a folder tree.
   */
  async #guard<T>(body: () => Promise<RemoteResult<T>>, writes = false): Promise<RemoteResult<T>> {
    try {
      await stat(this.root);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      if (!(await exists(dirname(this.root)))) {
        return failed(
          this.#error(
            'unreachable',
            `folder ${dirname(this.root)} does not exist, so the remote ${this.root} cannot be created in it (is the disk mounted? create it: mkdir -p ${this.root})`,
          ),
        );
      }
      if (writes)
        await mkdir(this.root).catch((e: unknown) => {
          if (!isErrno(e, 'EEXIST')) throw e;
        });
    }
    try {
      return await body();
    } catch (error) {
      if (error instanceof InvalidRef) return failed(error.toError());
      if (error instanceof TooLarge) return failed(tooLarge(error, 'a ref'));
      if (isErrno(error, 'EACCES') || isErrno(error, 'EPERM') || isErrno(error, 'EROFS')) {
        return failed(this.#error('denied', (error as Error).message));
      }
      if (isErrno(error, 'EIO') || isErrno(error, 'ENOSPC') || isErrno(error, 'ESTALE')) {
        return failed(this.#error('unreachable', (error as Error).message));
      }
      throw error;
    }
  }

  #error(kind: 'denied' | 'unreachable', detail: string): RemoteError {
    return { kind, remote: this.url, detail };
  }
}

/** link() as create-only: true if we created `final`, false if it already existed. */
async function linkOnce(temp: string, final: string): Promise<boolean> {
  try {
    await link(temp, final);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    throw error;
  }
}

function tooLarge(error: TooLarge, what: string): RemoteError {
  return {
    kind: 'corrupt',
    what,
    expected: `at most ${error.max} bytes`,
    actual: 'more; reading stopped there',
  };
}

function corrupt(what: string, mismatch: { expected: string; actual: string }): RemoteError {
  return { kind: 'corrupt', what, expected: mismatch.expected, actual: mismatch.actual };
}

async function readdirOrEmpty(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}
