// Observing a stage's upload-source deps (file:// folders anywhere, gs:// bucket prefixes, or a
// ${NAME} holding one; pipeline/source-dep.ts resolves them). A folder is hashed by the same
// machinery and state cache as one inside the workspace, keyed by its path from the workspace
// (`../uploads`), so it costs the same. A bucket is observed by its listing (observe/gcs-listing.ts),
// each object a manifest entry (observe/bucket-manifest.ts); no object is read.
//
// A look that fails (folder gone, bucket unreachable) is never "unchanged": the stage gets a
// `source-unreachable` reason, status exits non-zero and the runner refuses to start the stage.
// With --offline a bucket is not looked at: it stands as the lock file recorded it.
import { statSync } from 'node:fs';
import { hashPath } from '../observe/hash-path.js';
import type { ListedObject } from '../observe/gcs-listing.js';
import type { PathHash } from '../observe/types.js';
import { resolveSourceDep, type SourceTarget } from '../pipeline/source-dep.js';
import type { ObservationMemo } from '../observe/memo.js';
import type { HashCache, HashStats } from '../observe/types.js';
import type { ConfigValue } from '../pipeline/config.js';

/** What was seen of one source dep. */
export type SourceSeen =
  | {
      readonly state: 'observed';
      readonly url: string;
      readonly target: SourceTarget;
      readonly hash: Exclude<PathHash, { kind: 'missing' }>;
      /** The bucket's objects as listed (what download mirrors); absent for a folder. */
      readonly listing?: readonly ListedObject[];
    }
  | { readonly state: 'unreachable'; readonly url: string; readonly why: string }
  /** --offline: a bucket not looked at; judged as the lock file recorded it. */
  | { readonly state: 'not-checked'; readonly url: string };

/** What observing a source needs: the parts of observe-stage.ts's ObserveContext it reads. */
export interface SourceContext {
  readonly workspace: string;
  readonly env: (name: string) => string | undefined;
  readonly config: (name: string) => ConfigValue | undefined;
  readonly offline: boolean;
  readonly cache: HashCache;
  readonly stats: HashStats;
  readonly memo: ObservationMemo;
}

export async function observeSource(ctx: SourceContext, declared: string): Promise<SourceSeen> {
  const resolved = resolveSourceDep(declared, ctx.workspace, ctx.config);
  // Validation refuses these before anything is observed; a config changed since is caught here.
  if (!resolved.ok) return { state: 'unreachable', url: declared, why: resolved.error.message };
  const target = resolved.value;
  if (target.kind === 'bucket') {
    if (ctx.offline) return { state: 'not-checked', url: target.url };
    const { listGcsPrefix } = await import('../observe/gcs-listing.js');
    const { bucketHash } = await import('../observe/bucket-manifest.js');
    const endpoint = ctx.env('PIPE_GCS_ENDPOINT');
    const listed = await listGcsPrefix(target.url, endpoint === undefined ? {} : { endpoint });
    if (!listed.ok) return { state: 'unreachable', url: target.url, why: listed.error };
    const hash = await bucketHash(target.url, listed.value, ctx.workspace);
    return { state: 'observed', url: target.url, target, hash, listing: listed.value };
  }
  const st = statSync(target.root, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory())
    return {
      state: 'unreachable',
      url: target.url,
      why: `${target.root} ${st === undefined ? 'does not exist' : 'is not a folder'}`,
    };
  try {
    const hash: PathHash = await ctx.memo.get(target.rel, false, () =>
      hashPath(ctx.workspace, target.rel, ctx.cache, ctx.stats),
    );
    if (hash.kind === 'missing')
      return { state: 'unreachable', url: target.url, why: `${target.root} does not exist` };
    return { state: 'observed', url: target.url, target, hash };
  } catch (error) {
    return { state: 'unreachable', url: target.url, why: (error as Error).message };
  }
}
