// One node process kept ready for the next compiled TypeScript stage (stage-host.ts runs in it).
// Each stage start used to pay, in the critical path: the spawn, node's boot, and its packages'
// load (DuckDB: ~60 ms of modules and native library) - 0.1-0.15 s a stage, 0.4-0.6 s of a
// build that adds one upload and runs four stages. A warm host pays them while the stage before
// it runs; the next stage starts by writing one line to it.
//
//   stage A starts ─▶ a host starts beside it, loads the packages B imported on its last run
//   stage B starts ─▶ takes the host: {entry, env} down its fd 3; another host starts for C
//   build ends     ─▶ an untaken host gets end-of-file on fd 3 and exits
//
// A host is taken only by a compiled stage (the command node would run is `--enable-source-maps
// <entry>`, the host's own flags) whose environment, but for its PIPE_* variables, is the one the
// host was started with: node reads nothing of PIPE_* while it boots, so the stage cannot tell.
// Otherwise the stage is spawned as before and the host waits for the next one.
//
// The host is in a process group of its own from the start, watched like any stage
// (stage-watch.ts): pipe killed outright takes it along.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type StageWatchdog, watchStageGroup } from './stage-watch.js';

/** The host script as compiled beside this file; none when pipe runs from its sources. */
const HOST_SCRIPT = fileURLToPath(new URL('./stage-host.js', import.meta.url));

/** A started host, and what it was started for. */
export interface WarmHost {
  readonly child: ChildProcess;
  readonly watchdog: StageWatchdog;
  /** The environment it was started with: the stage's without PIPE_* variables. */
  readonly env: Readonly<Record<string, string>>;
  readonly workspace: string;
}

let ready: WarmHost | undefined;

/** `env` without PIPE_* variables and unset values: what a host's boot may see. */
function hostEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && !name.startsWith('PIPE_')) out[name] = value;
  return out;
}

function sameEnv(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const names = Object.keys(a);
  return names.length === Object.keys(b).length && names.every((n) => a[n] === b[n]);
}

/** fd 3 of the host, where its one launch line goes. */
function launchPipe(host: WarmHost): NodeJS.WritableStream | undefined {
  return (host.child.stdio[3] ?? undefined) as NodeJS.WritableStream | undefined;
}

function alive(host: WarmHost): boolean {
  return host.child.exitCode === null && host.child.signalCode === null;
}

/** Nothing of an idle host keeps pipe's event loop alive; a taken one is the stage, and does. */
function setHeld(host: WarmHost, held: boolean): void {
  for (const handle of [host.child, ...host.child.stdio]) {
    const h = handle as { ref?: () => void; unref?: () => void } | null;
    if (held) h?.ref?.();
    else h?.unref?.();
  }
}

/**
 * Starts a host for the next stage, unless one is ready: in `workspace`, with the stage
 * environment `env` (its PIPE_* variables are left for the launch), loading `packages` early.
 */
export function startWarmHost(
  workspace: string,
  env: NodeJS.ProcessEnv,
  packages: readonly string[],
): void {
  if (ready !== undefined && alive(ready)) return;
  if (process.platform === 'win32' || !HOST_SCRIPT.endsWith('.js') || !existsSync(HOST_SCRIPT))
    return;
  const started = hostEnv(env);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, ['--enable-source-maps', HOST_SCRIPT, workspace, ...packages], {
      cwd: workspace,
      env: started,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
  } catch {
    return; // the stage is spawned as before
  }
  child.on('error', () => {});
  child.stdio[3]?.on('error', () => {});
  if (child.pid === undefined) return;
  const host = { child, watchdog: watchStageGroup(child.pid), env: started, workspace };
  child.once('exit', () => {
    if (ready === host) ready = undefined;
  });
  setHeld(host, false);
  ready = host;
}

/**
 * The ready host, now running the compiled stage `entry` with environment `env`; undefined when
 * there is none this stage can take (none ready, another workspace, another environment).
 */
export function takeWarmHost(
  workspace: string,
  entry: string,
  env: NodeJS.ProcessEnv,
): WarmHost | undefined {
  const host = ready;
  if (host === undefined || !alive(host) || host.workspace !== workspace) return undefined;
  if (!sameEnv(host.env, hostEnv(env))) return undefined;
  ready = undefined;
  const full: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) full[name] = value;
  setHeld(host, true);
  launchPipe(host)?.end(`${JSON.stringify({ entry, env: full })}\n`);
  return host;
}

/** Ends the ready host, if any: the build has no stage left for it. */
export function endWarmHost(): void {
  const host = ready;
  ready = undefined;
  if (host === undefined) return;
  launchPipe(host)?.end();
  if (!alive(host)) host.watchdog.release();
  else host.child.once('exit', () => host.watchdog.release());
}
