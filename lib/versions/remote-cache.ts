// The remote build cache: before a stale stage runs, look its fingerprint up among the published
// versions. Equal fingerprints mean equal script, params, env and dep contents, so a version
// whose lock entry has it holds exactly the outputs this run would make; pull them instead.
//
//   stale stage ─▶ fingerprint ─▶ index (stage, fingerprint) -> newest version ─▶ hit: apply()
//                                                                            └▶ miss: run locally
//
// Like wireit's CacheHit, the lookup only answers; the runner decides when to apply a hit and
// records the lock entry itself. A remote that is unreachable, refuses, or serves bad data never
// fails a build: the answer is `unusable` with the reason, and the stage runs locally.
import type { CacheLookup } from '../build/build-cache.js';
import { placeOutputs, placements } from './pull.js';
import { describeRemoteError, type Remote } from '../remote/remote.js';
import { err, ok, type Result } from '../util/result.js';
import { fetchManifest } from './fetch.js';
import type { VersionManifest } from './manifest.js';
import { describeVersionError } from './version-error.js';

/** (stage, fingerprint) -> the newest version holding it; or why versions could not be listed. */
type Index = Result<Map<string, VersionManifest>, string>;

/** A lookup over `remote`, which lists the versions once per build (lazily, on the first stale stage). */
export function remoteCache(root: string, remote: Remote, concurrency: number): CacheLookup {
  let index: Promise<Index> | undefined;
  let told = false;
  return async (stage, fingerprint) => {
    index ??= buildIndex(root, remote);
    const built = await index;
    // Said once per build, at the first stale stage: the reason is the same for every stage.
    if (!built.ok) {
      if (told) return { kind: 'miss' };
      told = true;
      return { kind: 'unusable', reason: `${built.error}; stale stages run locally` };
    }
    const manifest = built.value.get(`${stage}\t${fingerprint}`);
    if (manifest === undefined) return { kind: 'miss' };
    const entry = manifest.stages[stage]!;
    return {
      kind: 'hit',
      version: manifest.id,
      pushedBy: manifest.pushedBy,
      ...(entry.lock.metrics === undefined ? {} : { metrics: entry.lock.metrics }),
      // apply() answers in the shape lib/build/build-cache.ts declares ({ ok, reason }).
      async apply() {
        const outs = placements(manifest, [stage]);
        if (!outs.ok) return { ok: false, reason: outs.error };
        const placed = await placeOutputs({
          root,
          remote,
          manifest,
          outs: outs.value,
          local: new Map(),
          upToDate: new Set(),
          // The build's own output is the progress: one line when the stage is pulled.
          transfer: { concurrency, stream: process.stderr, live: false, silent: true },
        });
        if (placed.ok) return { ok: true, files: placed.value.placed, bytes: placed.value.bytes };
        return { ok: false, reason: describeVersionError(placed.error) };
      },
    };
  };
}

/** (stage, fingerprint) -> the newest version holding it. Manifests come from the local cache when known. */
async function buildIndex(root: string, remote: Remote): Promise<Index> {
  const ids = await remote.listVersions();
  if (!ids.ok) return err(describeRemoteError(ids.error));
  const byKey = new Map<string, VersionManifest>();
  for (const id of ids.value) {
    const got = await fetchManifest(remote, root, id);
    if (!got.ok) continue; // one unreadable version must not hide the others; pull reports it
    for (const [stage, entry] of Object.entries(got.value.stages))
      byKey.set(`${stage}\t${entry.lock.fingerprint}`, got.value);
  }
  return ok(byKey);
}
