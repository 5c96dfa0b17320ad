// Can an `incremental: true` stage update its previous outputs instead of rebuilding them?
// Only when the one difference since its last successful run is WHICH FILES its deps hold:
//
//   last run: code C, params P, env E, definition D, deps {data/raw: M1}  -> outs O (in the lock)
//   now:      code C, params P, env E, definition D, deps {data/raw: M2}, outs still O
//     => incremental, told M1 -> M2 file by file (added, modified, deleted)
//
// Anything else (never built, forced, code/params/env/definition or the fingerprint format
// changed, an out edited or missing, a dep whose file list is not known) rebuilds from scratch.
// The stage's contract is that both paths give the same rows (docs/stage-contract.md).
import { computeFingerprint } from './fingerprint.js';
import type { LockEntry } from './lockfile.js';
import type { Observed, StaleReason } from './plan.js';
import type { Stage } from '../graph/stage.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { SourceSeen } from './source-deps.js';

/**
 * One dep's files that changed, sorted: workspace-relative, or for an upload-source dep relative
 * to its folder or bucket prefix (as PIPE_SOURCES names them).
 */
export interface DepFileChanges {
  readonly added: string[];
  readonly modified: string[];
  readonly deleted: string[];
}

/** What PIPE_INCREMENTAL's file holds (docs/stage-contract.md). */
export interface IncrementalChanges {
  /** Every declared dep (as written) -> its changed files (empty lists: unchanged). */
  readonly deps: Record<string, DepFileChanges>;
}

export type IncrementalVerdict =
  | { readonly kind: 'incremental'; readonly changes: IncrementalChanges }
  | { readonly kind: 'full' };

/**
 * `reasons` are the stage's own stale reasons (plan.ts staleReasons), `entry` its lock entry,
 * `now` what is on disk. Incremental only if every reason is one dep file added, modified or
 * deleted, and the lock entry's fingerprint, recomputed with TODAY's definition and format over
 * the entry's own code, params and env, is the entry's fingerprint: proof that nothing but dep
 * contents moved (a changed command line or format is invisible to the per-field reasons when a
 * dep changed too).
 */
export function incrementalVerdict(
  stage: Stage,
  entry: LockEntry | undefined,
  now: Observed,
  reasons: readonly StaleReason[],
): IncrementalVerdict {
  if (!stage.incremental || entry === undefined || reasons.length === 0) return { kind: 'full' };
  const deps: Record<string, DepFileChanges> = {};
  for (const d of stage.deps) deps[d.value] = { added: [], modified: [], deleted: [] };
  for (const r of reasons) {
    if (r.kind !== 'dep-added' && r.kind !== 'dep-modified' && r.kind !== 'dep-deleted')
      return { kind: 'full' };
    const dep = deps[r.path];
    const seen = now.deps[r.path];
    if (dep === undefined || seen === undefined || seen.kind === 'missing') return { kind: 'full' };
    // A folder or glob dep names the file; without one, only a single-file dep that changed
    // content is understood (a folder whose old file list is not stored is not).
    const named =
      r.file ?? (seen.kind === 'file' && r.kind === 'dep-modified' ? r.path : undefined);
    const file = named === undefined ? undefined : inSource(named, now.sources?.[r.path]);
    if (file === undefined) return { kind: 'full' };
    if (r.kind === 'dep-added') dep.added.push(file);
    else if (r.kind === 'dep-modified') dep.modified.push(file);
    else dep.deleted.push(file);
  }
  if (!sameDefinitionAndFormat(stage, entry)) return { kind: 'full' };
  for (const changes of Object.values(deps)) {
    changes.added.sort();
    changes.modified.sort();
    changes.deleted.sort();
  }
  return { kind: 'incremental', changes: { deps } };
}

/**
 * An upload-source dep's file by its path inside the folder or bucket prefix, as PIPE_SOURCES
 * names it (the observation keys it by the folder's path from the workspace, or the bucket URL);
 * any other dep's file as it is. Undefined when it is not under the source (never expected).
 */
function inSource(file: string, seen: SourceSeen | undefined): string | undefined {
  if (seen === undefined) return file;
  if (seen.state !== 'observed') return undefined;
  const prefix = `${seen.target.kind === 'folder' ? seen.target.rel : seen.target.url}/`;
  return file.startsWith(prefix) ? file.slice(prefix.length) : undefined;
}

function sameDefinitionAndFormat(stage: Stage, entry: LockEntry): boolean {
  const depHashes: Record<string, Sha256Hex | null> = {};
  for (const [p, locked] of Object.entries(entry.deps)) depHashes[p] = locked.sha256;
  const recomputed = computeFingerprint({
    definition: {
      cmd: stage.cmd.value,
      deps: stage.deps.map((d) => d.value),
      outs: stage.outs.map((o) => o.value),
    },
    codeHashes: entry.cmd,
    packages: entry.packages ?? {},
    depHashes,
    params: entry.params,
    envHashes: entry.env,
  });
  return recomputed === entry.fingerprint;
}
