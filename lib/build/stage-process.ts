// Starts one stage script as a child process (docs/stage-contract.md), streams its output line
// by line to the reporter and to `.pipe/logs/<stage>.log`, and kills its whole process group on
// abort, so a zx script's own children (duckdb, curl) die with it.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Reporter } from './report.js';

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
  readonly script: string;
  readonly env: NodeJS.ProcessEnv;
  readonly logPath: string;
  readonly report: Reporter;
  readonly signal: AbortSignal;
}

export type StageExit =
  | { readonly kind: 'exited'; readonly code: number; readonly tail: readonly string[] }
  | { readonly kind: 'signalled'; readonly signal: string; readonly tail: readonly string[] }
  | { readonly kind: 'aborted' }
  | { readonly kind: 'spawn-failed'; readonly message: string };

function nodeArgs(script: string): string[] {
  return script.endsWith('.ts') || script.endsWith('.mts')
    ? ['--import', TSX_LOADER, script]
    : [script];
}

export async function runStageProcess(o: StageProcessOptions): Promise<StageExit> {
  mkdirSync(join(o.logPath, '..'), { recursive: true });
  const log = createWriteStream(o.logPath);
  const tail: string[] = [];
  const child = spawn(process.execPath, nodeArgs(o.script), {
    cwd: o.workspace,
    env: o.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: we signal -pid to reach every process the script started.
    detached: true,
  });
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

  const exit = await new Promise<StageExit>((resolve) => {
    child.once('error', (e) => resolve({ kind: 'spawn-failed', message: e.message }));
    child.once('exit', (code, signal) => {
      if (signal !== null) resolve({ kind: 'signalled', signal, tail });
      else resolve({ kind: 'exited', code: code ?? 1, tail });
    });
  });
  o.signal.removeEventListener('abort', onAbort);
  // The script exited; make sure nothing it started outlives it, then drain its output.
  killGroup(child.pid, 'SIGKILL');
  if (killTimer !== undefined) clearTimeout(killTimer);
  await pumped;
  await new Promise<void>((resolve) => log.end(resolve));
  return aborted ? { kind: 'aborted' } : exit;
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
