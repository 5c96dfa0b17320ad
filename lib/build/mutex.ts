// One build per workspace: `.pipe/build.lock` names the holder (pid, host, command, since).
//
// Taking it is atomic: the holder's record is written in full to a private temp file, then
// hard-linked to `.pipe/build.lock`; link(2) fails with EEXIST if the name exists, so exactly one
// process wins and nobody ever reads a half-written record.
//
// A record whose pid is dead on this host (SIGKILL, power loss) is taken over; a zombie or a pid
// since reused by another process counts as dead (process-liveness.ts): it is renamed to a
// private name first (only one contender's rename can succeed), checked to be the same dead
// record, then deleted. On another host we cannot see the pid, so we wait and say so.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { removeWorkspaceDebris, rollBackInterrupted } from './debris.js';
import { identityOf, isRunningAs, type ProcessIdentity } from './process-liveness.js';

export const MUTEX_FILE = '.pipe/build.lock';

/**
 * 250 ms between attempts while waiting: builds take seconds to hours, so a quarter second of
 * latency is invisible, and four stats a second cost nothing.
 */
const POLL_MS = 250;

export interface MutexHolder {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  /** ISO 8601 UTC time the holder took the mutex. */
  readonly since: string;
  /** Which process `pid` was (Linux: boot id and start time), so a reused pid is not the holder. */
  readonly identity?: ProcessIdentity;
}

export type AcquireResult =
  | { readonly ok: true; readonly release: () => void; readonly tookOverFrom?: MutexHolder }
  | { readonly ok: false; readonly reason: 'busy'; readonly holder: MutexHolder }
  | { readonly ok: false; readonly reason: 'aborted' };

export interface AcquireOptions {
  readonly command: string;
  /** Fail at once instead of waiting when another build holds the mutex. */
  readonly noWait: boolean;
  /** Called once, when we first find the mutex held and start waiting. */
  readonly onWait: (holder: MutexHolder) => void;
  readonly signal?: AbortSignal;
}

function readHolder(path: string): MutexHolder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as MutexHolder;
  } catch {
    return undefined;
  }
}

function tryTake(workspace: string, me: MutexHolder): boolean {
  const dir = join(workspace, '.pipe');
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `build.lock.${me.pid}-${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, `${JSON.stringify(me)}\n`);
  try {
    linkSync(temp, join(workspace, MUTEX_FILE));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Removes a dead holder's record, unless someone else got there first. */
function takeOverDead(workspace: string, dead: MutexHolder | undefined): boolean {
  const path = join(workspace, MUTEX_FILE);
  const aside = `${path}.dead-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return false; // another process moved it first
  }
  const moved = readHolder(aside);
  if (moved !== undefined && (moved.pid !== dead?.pid || moved.since !== dead?.since)) {
    // We grabbed a live holder's fresh record: put it back (best effort) and keep waiting.
    try {
      linkSync(aside, path);
    } catch {
      /* the name was taken again meanwhile; that holder is the owner now */
    }
  }
  rmSync(aside, { force: true });
  return true;
}

export async function acquireBuildMutex(
  workspace: string,
  options: AcquireOptions,
): Promise<AcquireResult> {
  const identity = identityOf(process.pid);
  const me: MutexHolder = {
    pid: process.pid,
    host: hostname(),
    command: options.command,
    since: new Date().toISOString(),
    ...(identity === undefined ? {} : { identity }),
  };
  const path = join(workspace, MUTEX_FILE);
  let waiting = false;
  let tookOverFrom: MutexHolder | undefined;
  let unreadable = 0;
  for (;;) {
    if (tryTake(workspace, me)) {
      // Holding the mutex, nothing else of pipe's writes here: what killed runs left is debris,
      // and a replacement of outs they left half-done is rolled back before the sweep.
      rollBackInterrupted(workspace);
      removeWorkspaceDebris(workspace);
      const release = (): void => {
        // Only remove the record if it is still ours (it always should be).
        if (readHolder(path)?.pid === me.pid) rmSync(path, { force: true });
      };
      return tookOverFrom === undefined
        ? { ok: true, release }
        : { ok: true, release, tookOverFrom };
    }
    const holder = readHolder(path);
    if (holder === undefined) {
      // Released between our link and our read, or garbage (records are never half-written, see
      // above): retry once, then treat a still-unreadable record as dead.
      if (++unreadable >= 2) takeOverDead(workspace, undefined);
      continue;
    }
    unreadable = 0;
    if (holder.host === me.host && !isRunningAs(holder.pid, holder.identity)) {
      if (takeOverDead(workspace, holder)) tookOverFrom = holder;
      continue;
    }
    if (options.noWait) return { ok: false, reason: 'busy', holder };
    if (!waiting) {
      waiting = true;
      options.onWait(holder);
    }
    if (options.signal?.aborted) return { ok: false, reason: 'aborted' };
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
