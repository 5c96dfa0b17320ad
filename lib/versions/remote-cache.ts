// The remote build cache: before a stale stage runs, look its fingerprint up among the published
// versions. Equal fingerprints mean equal script, params, env and dep contents, so a version
// whose lock entry has it holds exactly the outputs this run would make; pull them instead.
//
//   stale stage ─▶ fingerprint ─▶ index (stage, fingerprint) -> newest TRUSTED version ─▶ hit: apply()
//                                                                                  └▶ miss: run locally
//
// Trust is explicit (docs/threat-model.md): a fingerprint is only a claim, and anyone who can
// write to the bucket can make it. Only versions whose manifest is signed by a key in
// config/trusted-keys/ are reused, and the hit says which key. With no trusted keys the remote is
// not even listed. A matching version that is unsigned, signed by another key or edited after
// signing is named once per stage and never used.
//
// Like wireit's CacheHit, the lookup only answers; the runner decides when to apply a hit and
// records the lock entry itself. A remote that is unreachable, refuses, or serves bad data never
// fails a build: the answer is `unusable` with the reason, and the stage runs locally. Text here
// is raw (it may hold a remote's escapes); build/report.ts prints it escaped.
import type { CacheLookup } from '../build/build-cache.js';
import type { Pipeline } from '../graph/stage.js';
import { describeRemoteError, type Remote } from '../remote/remote.js';
import { err, ok, type Result } from '../util/result.js';
import { compareVersionIds } from '../remote/remote-path.js';
import { fetchManifest } from './fetch.js';
import type { VersionManifest } from './manifest.js';
import { checkPlacement } from './placement.js';
import { placeOutputs } from './pull.js';
import { checkTrust, describeSigner, describeTrust } from './signature.js';
import { TRUSTED_KEYS_DIR, type TrustedKey } from './signing-keys.js';
import { describeVersionError } from './version-error.js';

interface Indexed {
  readonly manifest: VersionManifest;
  /** How the build names the signer: `key ci (CI, ed25519:…)`. */
  readonly signedBy: string;
}

interface Index {
  /** (stage, fingerprint) -> the newest trusted version holding it. */
  readonly trusted: Map<string, Indexed>;
  /** (stage, fingerprint) -> why the newest untrusted version holding it was not used. */
  readonly refused: Map<string, string>;
}

export interface RemoteCacheOptions {
  readonly root: string;
  readonly remote: Remote;
  readonly concurrency: number;
  /** This workspace's pipeline: a version may write only the outs it declares (placement.ts). */
  readonly pipeline: Pipeline;
  /** config/trusted-keys/; the caller does not open a cache when there are none. */
  readonly trusted: readonly TrustedKey[];
}

/** Why a build with no trusted keys does not use the remote: said once. */
export const NO_TRUSTED_KEYS = `no keys in ${TRUSTED_KEYS_DIR}/, so no published version is trusted (docs/threat-model.md); stale stages run locally`;

/** A lookup over the remote, which lists the versions once per build (lazily, on the first stale stage). */
export function remoteCache(options: RemoteCacheOptions): CacheLookup {
  const { root, remote, concurrency, pipeline, trusted } = options;
  let index: Promise<Result<Index, string>> | undefined;
  let told = false;
  return async (stage, fingerprint) => {
    index ??= buildIndex(root, remote, trusted);
    const built = await index;
    // Said once per build, at the first stale stage: the reason is the same for every stage.
    if (!built.ok) {
      if (told) return { kind: 'miss' };
      told = true;
      return { kind: 'unusable', reason: `${built.error}; stale stages run locally` };
    }
    const key = `${stage}\t${fingerprint}`;
    const found = built.value.trusted.get(key);
    if (found === undefined) {
      const refused = built.value.refused.get(key);
      return refused === undefined ? { kind: 'miss' } : { kind: 'unusable', reason: refused };
    }
    const { manifest, signedBy } = found;
    const entry = manifest.stages[stage]!;
    return {
      kind: 'hit',
      version: manifest.id,
      pushedBy: manifest.pushedBy,
      signedBy,
      ...(entry.lock.metrics === undefined ? {} : { metrics: entry.lock.metrics }),
      // apply() answers in the shape lib/build/build-cache.ts declares ({ ok, reason }).
      async apply() {
        const outs = checkPlacement(manifest, [stage], pipeline);
        if (!outs.ok) {
          const p = outs.error;
          return {
            ok: false,
            reason:
              p.kind === 'invalid'
                ? p.message
                : `version ${manifest.id} declares ${stage}'s outs as ${p.stages[0]!.theirs.join(', ') || 'nothing'}, but pipeline.yaml declares ${p.stages[0]!.ours.join(', ') || 'nothing'}`,
          };
        }
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

/** Every version's manifest, verified; manifests come from the local cache when known. */
async function buildIndex(
  root: string,
  remote: Remote,
  trusted: readonly TrustedKey[],
): Promise<Result<Index, string>> {
  const ids = await remote.listVersions();
  if (!ids.ok) return err(describeRemoteError(ids.error));
  const index: Index = { trusted: new Map(), refused: new Map() };
  // Oldest first, so the newest version holding a fingerprint is the one kept.
  for (const id of [...ids.value].sort(compareVersionIds)) {
    const got = await fetchManifest(remote, root, id);
    if (!got.ok) continue; // one unreadable version must not hide the others; pull reports it
    const trust = checkTrust(got.value, trusted);
    for (const [stage, entry] of Object.entries(got.value.stages)) {
      const key = `${stage}\t${entry.lock.fingerprint}`;
      if (trust.kind === 'trusted') {
        index.trusted.set(key, { manifest: got.value, signedBy: describeSigner(trust.key) });
        index.refused.delete(key);
      } else if (!index.trusted.has(key))
        index.refused.set(
          key,
          `version ${id} holds this stage's outputs but ${describeTrust(trust)}; only versions signed by a key in ${TRUSTED_KEYS_DIR}/ are reused, so it runs locally`,
        );
    }
  }
  return ok(index);
}
