// The CLI shell: version, help, usage errors. Runs the built bin as a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

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
