// The CLI shell: version, help, usage errors. Runs the built bin as a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const bin = new URL('../bin/pipe.js', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

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
