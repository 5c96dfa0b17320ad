// The CLI shell: version, help, usage errors. Runs the built bin as a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandNamed } from '../lib/cli.js';

const bin = new URL('../bin/pipe.js', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('pipe CLI shell', () => {
  it('prints the package version', () => {
    expect(execFileSync('node', [bin, '--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version);
  });

  it('exits 2 with a hint on an unknown command', () => {
    const r = spawnSync('node', [bin, 'frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).toContain('--help');
  });
});

describe('loading only the command named', () => {
  it('finds the command after the global options, and none when an unknown word or option comes first', () => {
    expect(commandNamed(['status', '--json'])).toBe('status');
    expect(commandNamed(['-C', 'build', 'status'])).toBe('status'); // a folder named build
    expect(commandNamed(['--cwd', 'x', 'gc'])).toBe('gc');
    expect(commandNamed(['--cwd=x', '-Cy', 'dag'])).toBe('dag');
    expect(commandNamed(['--help', 'push'])).toBe('push');
    expect(commandNamed(['stauts', 'status'])).toBeUndefined(); // commander suggests "status"
    expect(commandNamed(['--frob', 'status'])).toBeUndefined();
    expect(commandNamed(['help', 'status'])).toBeUndefined();
    expect(commandNamed([])).toBeUndefined();
    expect(commandNamed(['constructor'])).toBeUndefined();
  });

  it('gives each command --help lists the same help as `pipe help <command>` (every command loaded)', () => {
    const listed = /Commands:\n([\s\S]*)/.exec(
      execFileSync('node', [bin, '--help'], { encoding: 'utf8' }),
    )![1]!;
    const names = [...listed.matchAll(/^ {2}(\w+)/gm)]
      .map((m) => m[1]!)
      .filter((n) => n !== 'help');
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const name of names) {
      const alone = spawnSync('node', [bin, name, '--help'], { encoding: 'utf8' });
      expect(alone.status).toBe(0);
      expect(alone.stdout).toMatch(new RegExp(`^Usage: pipe ${name}\\b`));
      // `help <command>` names no command first, so every command is loaded for it.
      expect(alone.stdout).toBe(execFileSync('node', [bin, 'help', name], { encoding: 'utf8' }));
    }
  });
});

describe('a reader that goes away', () => {
  it('does not crash with EPIPE when stdout is closed before pipe writes', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('node', [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Close our end of the child's stdout at once, before the child has started: its first
    // write then fails with EPIPE, every time (no race with a reader that exits "soon").
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  });
});
