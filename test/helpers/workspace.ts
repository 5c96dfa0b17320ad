// The test rig: a temporary workspace with files written in place, and the real built `pipe`
// CLI run in it as a child process with a scrubbed environment. Every run's command line, exit
// code and output is printed when the test fails, so a red test explains itself.
//
//   const ws = await tempWorkspace({ 'pipeline.yaml': '...', 'stages/a.mjs': stage`...` });
//   const r = await ws.pipe('build');            // { code, stdout, stderr }
//   expect(ws.runs()).toEqual(['a']);            // stages that ran, via PIPE_TEST_MARKS
//
// Stage scripts are real zx scripts. The workspace gets a `node_modules` symlink to this repo's,
// so `import { fs } from 'zx'` resolves as it would in the project. Use `STAGE_PRELUDE` (or the
// `stage` tag) for the few helpers the contract needs: out(), param(), mark().
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFailed, onTestFinished } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const pipeBin = join(repoRoot, 'bin', 'pipe.js');

/**
 * Lines every test stage can start with: `out(declared)` is the temp path to write an out to,
 * `param(key)` a declared param, `mark()` records that this stage ran (ws.runs() reads it).
 */
export const STAGE_PRELUDE = `import { fs, path } from 'zx';
const __outs = JSON.parse(process.env.PIPE_OUTS ?? '{}');
const __params = JSON.parse(process.env.PIPE_PARAMS ?? '{}');
const out = (p) => { if (!(p in __outs)) throw new Error('undeclared out ' + p); return __outs[p]; };
const param = (k) => __params[k];
const mark = (extra = '') => fs.appendFileSync(process.env.PIPE_TEST_MARKS, process.env.PIPE_STAGE + (extra ? ' ' + extra : '') + '\\n');
`;

/** A stage script: the prelude, `mark()`, then `body`. */
export function stage(strings: TemplateStringsArray, ...values: unknown[]): string {
  const body = strings.reduce(
    (acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''),
    '',
  );
  return `${STAGE_PRELUDE}mark();\n${body}\n`;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Extra environment variables for pipe (and so for its stages). */
  readonly env?: Record<string, string>;
}

/** A pipe process started with `ws.start()`: its output so far, and helpers to wait on it. */
export interface RunningPipe {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves when stdout+stderr so far match `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<RunResult>;
}

export interface TempWorkspace {
  readonly root: string;
  path(rel: string): string;
  write(rel: string, content: string | Uint8Array): void;
  read(rel: string): string;
  exists(rel: string): boolean;
  remove(rel: string): void;
  /** Sets a file's mtime (and atime) to `secondsAgo` seconds in the past. */
  age(rel: string, secondsAgo: number): void;
  /** Runs `pipe <args>` in the workspace and waits for it. */
  pipe(...args: string[]): Promise<RunResult>;
  pipeWith(options: RunOptions, ...args: string[]): Promise<RunResult>;
  /** Starts `pipe <args>` without waiting. */
  start(args: readonly string[], options?: RunOptions): RunningPipe;
  /** Lines written by `mark()` since the last `clearRuns()`: usually stage names. */
  runs(): string[];
  clearRuns(): void;
}

/** Only what a child needs; nothing from the developer's shell leaks into a test. */
function scrubbedEnv(extra: Record<string, string>, marks: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    CI: 'true',
    PIPE_TEST_MARKS: marks,
    ...extra,
  };
}

export async function tempWorkspace(files: Record<string, string> = {}): Promise<TempWorkspace> {
  const base = mkdtempSync(join(tmpdir(), 'pipe-test-'));
  const root = join(base, 'ws');
  mkdirSync(root);
  const marks = join(base, 'marks.txt');
  writeFileSync(marks, '');
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  const transcript: string[] = [];

  onTestFinished(() => rmSync(base, { recursive: true, force: true }));
  onTestFailed(() => {
    process.stderr.write(`\n--- pipe runs in ${root} ---\n${transcript.join('\n')}\n--- end ---\n`);
  });

  const path = (rel: string): string => join(root, rel);
  const write = (rel: string, content: string | Uint8Array): void => {
    mkdirSync(dirname(path(rel)), { recursive: true });
    writeFileSync(path(rel), content);
  };
  for (const [rel, content] of Object.entries(files)) write(rel, content);

  const start = (args: readonly string[], options: RunOptions = {}): RunningPipe => {
    const child = spawn(process.execPath, [pipeBin, ...args], {
      cwd: root,
      env: scrubbedEnv(options.env ?? {}, marks),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let all = '';
    const waiters: (() => void)[] = [];
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      all += d;
      for (const w of waiters) w();
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      all += d;
      for (const w of waiters) w();
    });
    const done = new Promise<RunResult>((resolve) => {
      child.on('close', (code, signal) => {
        transcript.push(`$ pipe ${args.join(' ')}  -> exit ${code ?? signal}\n${all}`);
        resolve({ code, signal, stdout, stderr });
      });
    });
    return {
      child,
      output: () => all,
      done,
      waitFor: (pattern, timeoutMs = 20_000) =>
        new Promise<void>((resolve, reject) => {
          const check = (): void => {
            if (pattern.test(all)) resolve();
          };
          const timer = setTimeout(
            () => reject(new Error(`timed out waiting for ${pattern} in:\n${all}`)),
            timeoutMs,
          );
          waiters.push(() => {
            if (pattern.test(all)) {
              clearTimeout(timer);
              resolve();
            }
          });
          void done.then(() => {
            clearTimeout(timer);
            if (pattern.test(all)) resolve();
            else reject(new Error(`pipe exited before printing ${pattern}:\n${all}`));
          });
          check();
        }),
    };
  };

  return {
    root,
    path,
    write,
    read: (rel) => readFileSync(path(rel), 'utf8'),
    exists: (rel) => existsSync(path(rel)),
    remove: (rel) => rmSync(path(rel), { recursive: true, force: true }),
    age: (rel, secondsAgo) => {
      const t = Date.now() / 1000 - secondsAgo;
      utimesSync(path(rel), t, t);
    },
    pipe: (...args) => start(args).done,
    pipeWith: (options, ...args) => start(args, options).done,
    start,
    runs: () =>
      readFileSync(marks, 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    clearRuns: () => writeFileSync(marks, ''),
  };
}
