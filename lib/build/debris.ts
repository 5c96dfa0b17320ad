// What a killed pipe leaves in a workspace, and its removal. Every write is a temp file renamed
// into place, every stage and pull works in a folder of .pipe/tmp, and the mutex is taken through
// a private temp name; a SIGKILL at the wrong moment leaves those behind, and nothing else ever
// removes them:
//   .pipeline.lock.<pid>-<hex>.tmp, .pipe/**/.<name>.<pid>-<hex>.tmp   (util/atomic-write.ts)
//   .pipe/tmp/<stage>-<hex>/, .pipe/tmp/pull-<hex>/                    (runner, versions/pull)
//   .pipe/build.lock.<pid>-<hex>, .pipe/build.lock.dead-<pid>-<hex>    (mutex.ts)
// Only entries older than a grace period go: a temp file of a command running right now (a
// `pipe status` saving its caches takes no mutex) is seconds old. A temp folder holding a
// replacement of outs that never committed is rolled back first (rollBackInterrupted).
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { rollBackReplacement } from '../util/replace-outs.js';

/**
 * An hour: far longer than any rename-into-place takes, and a stage's temp folder belongs to the
 * mutex holder (only a mutex holder calls this), so age only protects commands without it.
 */
export const DEBRIS_GRACE_MS = 60 * 60 * 1000;

/** The temp name util/atomic-write.ts gives `.<target>.<pid>-<8 hex>.tmp`. */
const ATOMIC_TEMP = /^\..+\.\d+-[0-9a-f]{8}\.tmp$/;
/** The mutex's private names (mutex.ts). */
const MUTEX_TEMP = /^build\.lock\.(dead-)?\d+-[0-9a-f]{8}$/;
const PIPE_DIR = '.pipe';
const TMP_DIR = '.pipe/tmp';
/** .pipe's folders hold caches a few levels deep at most; the walk stops here. */
const MAX_DEPTH = 3;

function entries(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}

/**
 * Removes the workspace's leftovers older than `graceMs` (see above); returns what it removed,
 * workspace-relative. Best effort: an entry that cannot be removed is left for next time.
 */
export function removeWorkspaceDebris(
  root: string,
  graceMs: number = DEBRIS_GRACE_MS,
  now: number = Date.now(),
): string[] {
  const removed: string[] = [];
  const removeIfOld = (path: string): void => {
    try {
      if (now - statSync(path).mtimeMs < graceMs) return;
      rmSync(path, { recursive: true, force: true });
      removed.push(relative(root, path).split('\\').join('/'));
    } catch {
      /* gone meanwhile, or not ours to remove: next time */
    }
  };
  for (const name of entries(root)) if (ATOMIC_TEMP.test(name)) removeIfOld(join(root, name));
  const walk = (folder: string, depth: number): void => {
    for (const name of entries(folder)) {
      const path = join(folder, name);
      if (path === join(root, TMP_DIR)) continue;
      if (ATOMIC_TEMP.test(name) || (depth === 1 && MUTEX_TEMP.test(name))) removeIfOld(path);
      else if (depth < MAX_DEPTH && isFolder(path)) walk(path, depth + 1);
    }
  };
  walk(join(root, PIPE_DIR), 1);
  for (const name of entries(join(root, TMP_DIR))) removeIfOld(join(root, TMP_DIR, name));
  return removed.sort();
}

/**
 * Rolls back every replacement of outs a killed run left uncommitted (util/replace-outs.ts), so the
 * outs are again what the lock describes; returns the outs restored. Before removeWorkspaceDebris:
 * the old outs wait in those temp folders, and the sweep would delete them.
 */
export function rollBackInterrupted(root: string): string[] {
  const restored: string[] = [];
  for (const name of entries(join(root, TMP_DIR)))
    restored.push(...rollBackReplacement(root, join(root, TMP_DIR, name)));
  return restored;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
