// What `pipe gc` may remove (lib/commands/gc.ts says when): local file lists pipeline.lock does
// not name, and remote objects no version names, each only when older than the grace period.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LockFile } from '../build/lockfile.js';
import { MANIFEST_DIR } from '../observe/manifest-store.js';
import { describeRemoteError, type Remote } from '../remote/remote.js';
import { err, ok, type Result } from '../util/result.js';
import type { Sha256Hex } from '../util/sha256.js';
import { fetchManifest } from './fetch.js';
import { KnownObjects } from './known-objects.js';
import { describeVersionError } from './version-error.js';

export interface GcOptions {
  readonly now: number;
  readonly graceMs: number;
  readonly dryRun: boolean;
}

export interface LocalGc {
  /** Workspace-relative paths removed (or that would be, with --dry-run). */
  readonly removed: string[];
  readonly bytes: number;
  /** Named by pipeline.lock. */
  readonly kept: number;
  /** Not named, but younger than the grace period. */
  readonly young: number;
}

/** Every sha256 the lock names (deps and outs), whatever the kind of path. */
function lockHashes(lock: LockFile): Set<string> {
  const shas = new Set<string>();
  for (const entry of Object.values(lock.stages)) {
    for (const p of [...Object.values(entry.deps), ...Object.values(entry.outs)])
      shas.add(p.sha256);
  }
  return shas;
}

export async function collectLocal(
  root: string,
  lock: LockFile,
  options: GcOptions,
): Promise<LocalGc> {
  const named = lockHashes(lock);
  const dir = join(root, MANIFEST_DIR);
  let names: string[] = [];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const result = { removed: [] as string[], bytes: 0, kept: 0, young: 0 };
  for (const name of names) {
    const sha = name.replace(/\.(txt|json)$/, '');
    if (named.has(sha)) {
      result.kept++;
      continue;
    }
    const path = join(dir, name);
    const st = await stat(path);
    if (options.now - st.mtimeMs < options.graceMs) {
      result.young++;
      continue;
    }
    result.removed.push(`${MANIFEST_DIR}/${name}`);
    result.bytes += st.size;
    if (!options.dryRun) await rm(path, { force: true });
  }
  return result;
}

export interface RemoteGc {
  readonly url: string;
  readonly versions: number;
  readonly objects: number;
  readonly removed: Sha256Hex[];
  readonly bytes: number;
  readonly young: number;
}

/**
 * Objects no version names, older than the grace period, removed. Objects are listed before the
 * versions, so a version published meanwhile is seen with everything it names (or its objects are
 * too young to be listed as old). A version that cannot be read stops everything.
 */
export async function collectRemote(
  remote: Remote,
  root: string,
  options: GcOptions,
): Promise<Result<RemoteGc, string>> {
  const objects = await remote.listObjects();
  if (!objects.ok) return err(describeRemoteError(objects.error));
  const ids = await remote.listVersions();
  if (!ids.ok) return err(describeRemoteError(ids.error));
  const cannot = (why: string) => err(`${why}; nothing was removed from the remote`);
  const needed = new Set<string>();
  for (const id of ids.value) {
    const got = await fetchManifest(remote, root, id);
    if (!got.ok) return cannot(`version ${id} cannot be read (${describeVersionError(got.error)})`);
    for (const stage of Object.values(got.value.stages))
      for (const f of stage.files) needed.add(f.sha256);
  }
  const result = { removed: [] as Sha256Hex[], bytes: 0, young: 0 };
  // This checkout's record of what the remote holds would now claim objects that are gone.
  const known = KnownObjects.load(root, remote.url);
  for (const o of objects.value) {
    if (needed.has(o.sha)) continue;
    if (options.now - o.storedAtMs < options.graceMs) {
      result.young++;
      continue;
    }
    if (!options.dryRun) {
      const gone = await remote.deleteObject(o.sha);
      if (!gone.ok)
        return err(
          `${describeRemoteError(gone.error)} (after removing ${result.removed.length} objects)`,
        );
    }
    result.removed.push(o.sha);
    result.bytes += o.size;
  }
  if (!options.dryRun && result.removed.length > 0) {
    known.forgetAll();
    await known.save();
  }
  return ok({
    url: remote.url,
    versions: ids.value.length,
    objects: objects.value.length,
    ...result,
  });
}
