// Stages die with their runner. A stage runs in its own process group (stage-process.ts) so that
// an abort reaches everything it started; the price is that a kill -9 of pipe, which no handler
// can see, would leave the group running beside the next build, using CPU and memory and
// writing into a temp folder nobody will read.
//
// So each stage gets a watchdog: a tiny `sh` in a session of its own whose stdin is a pipe from
// pipe. Nothing else holds the other end (node opens it close-on-exec), so when pipe dies by any
// means the kernel closes it, `read` sees end-of-file, and the watchdog kills the stage's group.
// When the stage ends normally, pipe writes "done" and the watchdog exits without a signal.
//
// Why this and not the alternatives:
// - PR_SET_PDEATHSIG: node has no binding for prctl; `setpriv --pdeathsig` exists on Linux only,
//   signals only the direct child (not the group: duckdb, curl, a command line's jobs survive),
//   and fires when the spawning *thread* exits, not the process.
// - A check-in (the stage polls its parent): needs every stage's cooperation; a command-line
//   stage (python3 train.py) cannot be made to.
// - The watchdog is POSIX sh, costs one small process per running stage, and covers the whole
//   group, whatever the stage runs.
// It sends SIGKILL at once, not SIGTERM and a grace: its runner is gone, nothing will use what
// the stage writes, and a grace would be time the stage runs beside the next build.
//
// Its own session (detached): a terminal's SIGHUP or Ctrl-C reaches pipe's group, not the
// watchdog, so a watchdog is never killed before it could act; and it ignores HUP and INT anyway.
import { spawn } from 'node:child_process';

const WATCHDOG = [
  "trap '' HUP INT",
  'read -r word',
  // "done": the stage ended and pipe is alive. Anything else (end of file) means pipe died.
  'if [ "$word" = done ]; then exit 0; fi',
  // No `--`: dash's kill reads it as a pid; `-KILL -<pgid>` works in dash, bash and busybox.
  'kill -KILL "-$1" 2>/dev/null',
  'exit 0',
].join('\n');

export interface StageWatchdog {
  /** The stage ended: stop watching without killing anything. */
  release(): void;
}

/** Starts a watchdog that kills process group `pgid` if this process dies first. */
export function watchStageGroup(pgid: number): StageWatchdog {
  if (process.platform === 'win32') return { release: () => {} };
  const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'pipe-stage-watchdog', String(pgid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // Never keep pipe's event loop alive for it, nor fail pipe if it cannot start (no /bin/sh):
  // the stage then runs unwatched, as before.
  dog.unref();
  dog.on('error', () => {});
  dog.stdin?.on('error', () => {});
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    release: () => {
      dog.stdin?.end('done\n');
    },
  };
}
