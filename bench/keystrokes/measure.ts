// Runs one command and measures it: wall time, and peak resident memory of its WHOLE process tree
// (pipe, each stage's node process with DuckDB inside it, any grandchild), sampled from /proc every
// SAMPLE_MS. GNU time's "maximum resident set size" is the largest single process, not the sum of a
// tree, so we sample instead. A peak shorter than one sample can be missed; at 10M keystrokes the
// stages run for seconds to minutes, so the error is small, and the table says it is sampled.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const SAMPLE_MS = 100;
const PAGE = 4096;

export interface Measured {
  readonly code: number | null;
  readonly seconds: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Peak of the summed RSS of the tree, bytes. */
  readonly peakTreeRss: number;
  /** Per labelled subtree (see `label`), its own peak summed RSS, bytes. */
  readonly peakBySubtree: Record<string, number>;
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly rss: number;
  readonly cmdline: string;
}

function snapshot(): Proc[] {
  const procs: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 2 (comm) may hold spaces and parens: parse after its closing paren.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const rssPages = Number(readFileSync(`/proc/${entry}/statm`, 'utf8').split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      procs.push({ pid: Number(entry), ppid: Number(rest[1]), rss: rssPages * PAGE, cmdline });
    } catch {
      // The process exited between readdir and read: it has no memory to count.
    }
  }
  return procs;
}

function descendants(root: number, procs: readonly Proc[]): Proc[] {
  const children = new Map<number, Proc[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const self = procs.find((p) => p.pid === pid);
    if (self !== undefined) out.push(self);
    for (const c of children.get(pid) ?? []) stack.push(c.pid);
  }
  return out;
}

/**
 * Runs `cmd args` in `cwd`. `label(cmdline)` names the subtree a process starts (e.g. the stage
 * whose script it runs), or undefined; each named subtree's peak is reported on its own.
 */
export function measure(
  cwd: string,
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  label: (cmdline: string) => string | undefined = () => undefined,
  timeoutMs = Infinity,
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let peakTreeRss = 0;
    const peakBySubtree: Record<string, number> = {};
    const sample = () => {
      if (child.pid === undefined) return;
      const tree = descendants(child.pid, snapshot());
      peakTreeRss = Math.max(
        peakTreeRss,
        tree.reduce((n, p) => n + p.rss, 0),
      );
      for (const p of tree) {
        const name = label(p.cmdline);
        if (name === undefined) continue;
        const sub = descendants(p.pid, tree).reduce((n, q) => n + q.rss, 0);
        peakBySubtree[name] = Math.max(peakBySubtree[name] ?? 0, sub);
      }
    };
    const timer = setInterval(sample, SAMPLE_MS);
    // SIGTERM: pipe's abort path stops its stages (their process groups) and records nothing.
    const deadline = Number.isFinite(timeoutMs)
      ? setTimeout(() => child.kill('SIGTERM'), timeoutMs)
      : undefined;
    child.on('error', (error) => {
      clearInterval(timer);
      clearTimeout(deadline);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      clearTimeout(deadline);
      resolve({
        code,
        seconds: (performance.now() - started) / 1000,
        stdout,
        stderr,
        peakTreeRss,
        peakBySubtree,
      });
    });
  });
}
