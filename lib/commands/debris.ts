// One call that removes what killed pipe commands left behind, for `pipe gc`: the workspace's
// temp files, temp folders and mutex names (build/debris.ts), and the remote's unpublished temp
// files (Remote.removeStaleTemps). Each only when older than the grace period, so a command
// running right now keeps its own. The next command that takes the build mutex clears the
// workspace's part by itself (build/mutex.ts); the remote's part needs a listing of the whole
// store, so only this (explicit) call pays for it.
import { DEBRIS_GRACE_MS, removeWorkspaceDebris } from '../build/debris.js';
import type { Remote, RemoteResult } from '../remote/remote.js';

export { DEBRIS_GRACE_MS } from '../build/debris.js';

export interface DebrisRemoved {
  /** Workspace-relative paths removed. */
  readonly workspace: readonly string[];
  /** Remote keys removed, or why the remote could not be swept; undefined without a remote. */
  readonly remote: RemoteResult<string[]> | undefined;
}

/**
 * Removes debris older than `graceMs` from the workspace at `root` and, when given, `remote`.
 * Call it holding the build mutex (withBuildMutex): a stage's temp folder of a running build
 * is debris to anyone else once it is old enough.
 */
export async function removeDebris(
  root: string,
  remote: Remote | undefined,
  graceMs: number = DEBRIS_GRACE_MS,
): Promise<DebrisRemoved> {
  const workspace = removeWorkspaceDebris(root, graceMs);
  return {
    workspace,
    remote: remote === undefined ? undefined : await remote.removeStaleTemps(graceMs),
  };
}
