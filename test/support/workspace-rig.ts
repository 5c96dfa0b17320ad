// A temporary workspace with inline files, and the real built `pipe` run in it as a child process.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const pipeBin = new URL('../../bin/pipe.js', import.meta.url).pathname;

export interface PipeRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TempWorkspace {
  /** Real absolute path (symlinks resolved, so messages that name it compare equal). */
  readonly dir: string;
  write(path: string, text: string): void;
  link(path: string, target: string): void;
  pipe(...args: string[]): PipeRun;
}

/** Lines joined with '\n' plus a final newline: keeps line numbers countable in the test. */
export function lines(...text: string[]): string {
  return `${text.join('\n')}\n`;
}

export function tempWorkspace(files: Record<string, string> = {}): TempWorkspace {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pipe-parse-')));
  made.push(dir);
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  for (const [path, text] of Object.entries(files)) write(path, text);
  return {
    dir,
    write,
    link(path, target) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      symlinkSync(target, join(dir, path));
    },
    pipe(...args) {
      const r = spawnSync('node', [pipeBin, ...args], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}

/** Removes every workspace made so far; call from afterEach. */
export function removeTempWorkspaces(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

const made: string[] = [];
