// Starts one stage as a child process (docs/stage-contract.md) with zx's `$`, streams its output
// line by line to the reporter and to `.pipe/logs/<stage>.log`, and kills its whole process group
// on abort, so whatever the stage started (duckdb, curl, a command line's background jobs) dies
// with it; if pipe itself is killed outright, a watchdog kills the group (stage-watch.ts).
//
// Both kinds of cmd take this one path, so spawning, streaming, the stderr tail and the kill are
// written (and tested) once:
//   stages/clean.ts              -> node --enable-source-maps '<ws>/.pipe/compiled/<key>/stages/clean.js'
//                                   (its closure compiled, compiled-stage.ts; words quoted by zx)
//                                   or, when it cannot be compiled faithfully,
//                                   node --import tsx 'stages/clean.ts'
//   stages/lint.mjs              -> node 'stages/lint.mjs'
//   python3 train.py --fast      -> python3 train.py --fast               (the line as declared)
// zx runs either through bash with `set -euo pipefail;` in front; bash execs a single command, so
// the stage's own process is the group leader's image and its exit code or signal is reported
// as is. Nothing but the declared command line is ever spliced into the shell's text: paths and
// values reach the stage through its environment.
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cmdScript, isTypeScriptScript } from '../graph/stage.js';
import type { Sha256Hex } from '../util/sha256.js';
import { stageLaunch } from './compiled-stage.js';
import type { Reporter } from './report.js';
import { type StageWatchdog, watchStageGroup } from './stage-watch.js';
import { startWarmHost, takeWarmHost } from './warm-host.js';

/**
 * tsx is resolved from pipe's own node_modules, not the workspace's: a workspace need not have
 * its own install (tests run in temp folders).
 */
const TSX_LOADER = import.meta.resolve('tsx');

/** After SIGTERM, a stage gets this long to clean up before SIGKILL. 3 s: zx and DuckDB exit in ms. */
const KILL_GRACE_MS = 3000;
/** How many stderr lines a failure message quotes. */
const TAIL_LINES = 12;

export interface StageProcessOptions {
  readonly workspace: string;
  readonly stage: string;
  /** The stage's cmd as declared: a node script's path, or a command line. */
  readonly cmd: string;
  readonly env: NodeJS.ProcessEnv;
  /**
   * The stage's code as observed (path -> sha256): a TypeScript script runs compiled from it
   * (compiled-stage.ts). Absent: it runs under tsx.
   */
  readonly code?: Readonly<Record<string, Sha256Hex>>;
  readonly logPath: string;
  readonly report: Reporter;
  readonly signal: AbortSignal;
  /**
   * The packages the next stage to run imported last time: a node process is readied for it,
   * with them loaded, while this one runs (warm-host.ts). Absent: no stage is expected next.
   */
  readonly warmNext?: readonly string[];
}

export type StageExit =
  | { readonly kind: 'exited'; readonly code: number; readonly tail: readonly string[] }
  | { readonly kind: 'signalled'; readonly signal: string; readonly tail: readonly string[] }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'spawn-failed'; readonly message: string };

/** How node starts `script`, and the compiled tree it runs from (PIPE_COMPILED) if any. */
async function nodeArgs(
  o: StageProcessOptions,
  script: string,
): Promise<{ args: string[]; tree?: string; entry?: string }> {
  if (!isTypeScriptScript(script)) return { args: [script] };
  if (o.code !== undefined) {
    const launch = await stageLaunch(o.workspace, script, o.code, o.env);
    // Source maps: a stack trace names stages/x.ts and its line, as under tsx (which enables them).
    if (launch.kind === 'compiled')
      return {
        args: ['--enable-source-maps', launch.entry],
        tree: launch.tree,
        entry: launch.entry,
      };
  }
  return { args: ['--import', TSX_LOADER, script] };
}

let zxCore: Promise<typeof import('zx/core')> | undefined;
/** zx takes ~150 ms to load: only a build that runs a stage pays it, and once. */
function loadZx(): Promise<typeof import('zx/core')> {
  zxCore ??= import('zx/core');
  return zxCore;
}

/** The declared command line as a template with no holes: zx passes it to the shell unchanged. */
function verbatim(line: string): TemplateStringsArray {
  return Object.assign([line], { raw: [line] });
}

/**
 * An output store that keeps nothing: zx would otherwise hold every byte a stage prints, in
 * memory, until it exits; the lines go to the log and the reporter as they come instead.
 */
function discard(): string[] {
  return Object.assign([], { push: () => 0 });
}

export async function runStageProcess(o: StageProcessOptions): Promise<StageExit> {
  mkdirSync(join(o.logPath, '..'), { recursive: true });
  const script = cmdScript(o.cmd);
  const launch = script === undefined ? undefined : await nodeArgs(o, script);
  // PIPE_COMPILED names this run's compiled tree, or is unset (never one inherited from outside).
  const { PIPE_COMPILED: _inherited, ...inherited } = o.env;
  const env = launch?.tree === undefined ? inherited : { ...inherited, PIPE_COMPILED: launch.tree };
  const started = await startStage(o, launch, env);
  if (o.warmNext !== undefined) startWarmHost(o.workspace, env, o.warmNext);
  if (started.kind === 'spawn-failed') return started;
  const { child, running, watchdog } = started;

  const log = createWriteStream(o.logPath);
  const tail: string[] = [];
  const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): Promise<void> =>
    new Promise((resolve) => {
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => {
        log.write(`${line}\n`);
        if (name === 'stderr') {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
        }
        o.report({ type: 'stage-output', stage: o.stage, stream: name, line });
      });
      lines.on('close', resolve);
    });
  const pumped = Promise.all([pump(child.stdout!, 'stdout'), pump(child.stderr!, 'stderr')]);

  let aborted = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    aborted = true;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
  };
  if (o.signal.aborted) onAbort();
  else o.signal.addEventListener('abort', onAbort, { once: true });

  // The exit, not zx's settling: zx waits for the pipes to close, which a background job the
  // stage left running would hold open until it ends.
  const exit = await new Promise<StageExit>((resolve) => {
    child.once('error', (e) => resolve({ kind: 'spawn-failed', message: e.message }));
    child.once('exit', (code, signal) => {
      if (signal !== null) resolve({ kind: 'signalled', signal, tail });
      else resolve({ kind: 'exited', code: code ?? 1, tail });
    });
  });
  o.signal.removeEventListener('abort', onAbort);
  // The stage exited; make sure nothing it started outlives it, then drain its output.
  killGroup(child.pid, 'SIGKILL');
  watchdog?.release();
  if (killTimer !== undefined) clearTimeout(killTimer);
  await Promise.all([pumped, running]);
  await new Promise<void>((resolve) => log.end(resolve));
  return aborted ? { kind: 'aborted' } : exit;
}

type Started =
  | {
      readonly kind: 'started';
      readonly child: ChildProcess;
      /** zx's promise for a spawned stage; a warm host's has none. */
      readonly running?: Promise<unknown>;
      readonly watchdog?: StageWatchdog;
    }
  | { readonly kind: 'spawn-failed'; readonly message: string };

/**
 * The stage's process: a warm host (warm-host.ts) given the compiled stage when one is ready
 * for it, else spawned through zx, in a process group of its own either way.
 */
async function startStage(
  o: StageProcessOptions,
  launch: { args: string[]; entry?: string } | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Started> {
  const host =
    launch?.entry === undefined ? undefined : takeWarmHost(o.workspace, launch.entry, env);
  if (host !== undefined) return { kind: 'started', child: host.child, watchdog: host.watchdog };
  const { $ } = await loadZx();
  const shell = $({
    cwd: o.workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: we signal -pid to reach every process the stage started.
    detached: true,
    nothrow: true,
    quiet: true,
    verbose: false,
    store: { stdout: discard(), stderr: discard(), stdall: discard() },
  });
  const running =
    launch === undefined ? shell(verbatim(o.cmd)) : shell`${process.execPath} ${launch.args}`;
  const child = running.child;
  if (child === undefined) {
    const output = await running;
    return { kind: 'spawn-failed', message: output.cause?.message ?? output.message };
  }
  // If pipe is killed outright (kill -9), the watchdog kills the group (stage-watch.ts).
  const watchdog = child.pid === undefined ? undefined : watchStageGroup(child.pid);
  return { kind: 'started', child, running, watchdog };
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

export function logPathOf(workspace: string, stage: string): string {
  return join(workspace, '.pipe', 'logs', `${stage}.log`);
}
