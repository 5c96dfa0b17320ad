// Stages die with their runner. A stage runs in its own process group (stage-process.ts) so that
// an abort reaches everything it started; the price is that a kill -9 of pipe, which no handler
// can see, would leave the group running beside the next build, using CPU and memory and
// writing into a temp folder nobody will read.
//
// So the stages get a watchdog: a tiny `sh` in a session of its own whose stdin is a pipe from
// pipe. Nothing else holds the other end (node opens it close-on-exec), so when pipe dies by any
// means the kernel closes it, `read` sees end-of-file, and the watchdog kills every stage group it
// still watches. pipe writes `watch <pgid>` when a stage starts and `done <pgid>` when it ends.
// One watchdog per pipe process, started with its first stage: a spawn from a runner holding
// hundreds of MB costs 20-90 ms of its time, and a build ran two per stage (the stage's, this).
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
import { spawn, type ChildProcess } from 'node:child_process';

const WATCHDOG = [
  "trap '' HUP INT",
  // The watched groups, each between spaces: " 123 456 ".
  "groups=' '",
  'while read -r word pgid; do',
  '  case "$word" in',
  '    watch) groups="$groups$pgid " ;;',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: sh parameter expansion, not a template.
  '    done) case "$groups" in *" $pgid "*) groups="${groups%% $pgid *} ${groups#* $pgid }" ;; esac ;;',
  '  esac',
  'done',
  // End of file: pipe died (or exited with a stage still running). No `--`: dash's kill reads it
  // as a pid; `-KILL -<pgid>` works in dash, bash and busybox.
  'for g in $groups; do kill -KILL "-$g" 2>/dev/null; done',
  'exit 0',
].join('\n');

export interface StageWatchdog {
  /** The stage ended: stop watching without killing anything. */
  release(): void;
}

let dog: ChildProcess | undefined;

/** This process's watchdog, started on first use. */
function watchdog(): ChildProcess {
  if (dog !== undefined) return dog;
  dog = spawn('/bin/sh', ['-c', WATCHDOG, 'pipe-stage-watchdog'], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // Never keep pipe's event loop alive for it, nor fail pipe if it cannot start (no /bin/sh):
  // the stages then run unwatched, as before.
  dog.unref();
  dog.on('error', () => {});
  dog.stdin?.on('error', () => {});
  (dog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return dog;
}

/** Has the watchdog kill process group `pgid` if this process dies first. */
export function watchStageGroup(pgid: number): StageWatchdog {
  if (process.platform === 'win32') return { release: () => {} };
  const stdin = watchdog().stdin;
  stdin?.write(`watch ${pgid}\n`);
  return {
    release: () => {
      stdin?.write(`done ${pgid}\n`);
    },
  };
}
