// Is the process a lock record names still the one that wrote it?
//
// `process.kill(pid, 0)` is not enough: it succeeds for a zombie (a process that has exited but
// whose parent has not reaped it yet; where nothing reaps, forever) and for an unrelated process
// that was given the same pid later. On Linux /proc/<pid>/stat says both: field 3 is the state
// (Z zombie, X dead) and field 22 the start time in clock ticks since boot, which together with
// the boot id names one process for the life of the machine. A record keeps that identity, and a
// holder counts as alive only while its pid still runs with the same identity.
//
// Elsewhere (macOS) there is no /proc: the identity is absent and kill(pid, 0) decides, as before.
import { readFileSync } from 'node:fs';

/** `<boot id>/<start ticks>`: one process for the life of the machine (Linux only). */
export type ProcessIdentity = string;

interface ProcStat {
  readonly state: string;
  readonly startTicks: string;
}

function procStat(pid: number): ProcStat | 'gone' | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH')
      return process.platform === 'linux' ? 'gone' : undefined;
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ')': split after the last.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = fields[19]; // field 22 of the whole line
  if (state === undefined || startTicks === undefined) return undefined;
  return { state, startTicks };
}

let bootId: string | undefined;
function readBootId(): string | undefined {
  try {
    bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
  return bootId;
}

/** This process's identity to record beside its pid; undefined where /proc is not available. */
export function identityOf(pid: number): ProcessIdentity | undefined {
  const stat = procStat(pid);
  const boot = readBootId();
  if (stat === undefined || stat === 'gone' || boot === undefined) return undefined;
  return `${boot}/${stat.startTicks}`;
}

/**
 * Whether `pid` still runs as the process that recorded `identity`. A zombie is not running; a
 * pid now held by another process (another start time or boot) is not the recorder.
 */
export function isRunningAs(pid: number, identity: ProcessIdentity | undefined): boolean {
  const stat = procStat(pid);
  if (stat === 'gone') return false;
  if (stat !== undefined) {
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
    if (identity !== undefined) {
      const boot = readBootId();
      if (boot !== undefined && identity !== `${boot}/${stat.startTicks}`) return false;
    }
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
