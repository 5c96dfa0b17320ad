// What push, pull and versions share: the workspace loaded, the remote opened from --remote or
// PIPE_REMOTE (config precedence), the identity a push records, and the build mutex held while a
// command reads or replaces outputs (a build running meanwhile would change them under us).
import { hostname, userInfo } from 'node:os';
import type { BuildState } from '../build/build-state.js';
import { ExitCode } from '../util/exit-codes.js';
import { err, ok, type Result } from '../util/result.js';
import type { Remote } from '../remote/remote.js';
import { isLiveTerminal } from '../remote/transfer-progress.js';

export interface RemoteWorkspace {
  readonly ws: BuildState;
  readonly remote: Remote;
}

/** The workspace and its remote, or the exit code after the reason was printed. */
export type Opened = Result<RemoteWorkspace, ExitCode>;

export async function openRemoteWorkspace(
  start: string,
  remoteFlag: string | undefined,
): Promise<Opened> {
  const { loadBuildState } = await import('../build/build-state.js');
  const { openConfiguredRemote } = await import('../remote/open.js');
  const opened = await loadBuildState(start, process.stderr);
  if (!opened.ok) return err(opened.code);
  const ws = opened.value;
  const remote = await openConfiguredRemote(ws.config, ws.root, remoteFlag);
  if (!remote.ok) {
    process.stderr.write(`pipe: ${remote.error}\n`);
    return err(ExitCode.usage);
  }
  return ok({ ws, remote: remote.value });
}

/** Who a push records: PIPE_USER from config if set (a shared account), else the login name. */
export function identity(ws: BuildState): { user: string; host: string } {
  let login = process.env.USER ?? 'unknown';
  try {
    login = userInfo().username;
  } catch {
    // no passwd entry (a container): keep $USER
  }
  return { user: ws.config.get('PIPE_USER')?.value ?? login, host: hostname() };
}

/** Progress on stderr: live on a terminal outside CI, a line per 10% otherwise, none with --json. */
export function transferOptions(json: boolean, concurrency: number) {
  return {
    concurrency,
    stream: process.stderr,
    live: !json && isLiveTerminal(process.stderr),
    silent: json,
  };
}

/**
 * Parallel transfers: PIPE_TRANSFERS from config, else 32 for GCS (each small object is a
 * round trip, so many in flight hide latency) and 8 for a disk store (the disk is the limit).
 */
export function transferConcurrency(ws: BuildState, remote: Remote): number {
  const configured = Number(ws.config.get('PIPE_TRANSFERS')?.value);
  if (Number.isInteger(configured) && configured >= 1) return configured;
  return remote.url.startsWith('gs://') ? 32 : 8;
}

/** Runs `body` holding the workspace's build mutex (waiting for a running build to finish). */
export async function withBuildMutex(
  root: string,
  command: string,
  body: () => Promise<ExitCode>,
): Promise<ExitCode> {
  const { acquireBuildMutex } = await import('../build/mutex.js');
  const got = await acquireBuildMutex(root, {
    command,
    noWait: false,
    onWait: (h) =>
      process.stderr.write(
        `waiting for the build mutex: pid ${h.pid} on ${h.host} (${h.command}) holds it since ${h.since}\n`,
      ),
  });
  if (!got.ok) return got.reason === 'aborted' ? ExitCode.interrupted : ExitCode.busy;
  try {
    return await body();
  } finally {
    got.release();
  }
}
