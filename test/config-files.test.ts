// config/.env.* as people write them (dotenv's rules, which Node's util.parseEnv implements), and
// the Node version package.json promises against what the test runner's own packages require.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Config, parseDotenv } from '../lib/pipeline/config.js';
import { repoRoot } from './helpers/workspace.js';

describe('config/.env.* files', () => {
  it('drop an inline # comment, read `export KEY=`, keep a quoted #', () => {
    const text = [
      '# a comment line',
      'UPLOADS_URL=file://samples   # the sample uploads',
      'export PIPE_REMOTE=file://../pipe-remote',
      'PIPE_USER="ada # lovelace"',
      "DUCKDB_THREADS='2'",
      '',
    ].join('\n');
    expect(Object.fromEntries(parseDotenv(text))).toEqual({
      UPLOADS_URL: 'file://samples',
      PIPE_REMOTE: 'file://../pipe-remote',
      PIPE_USER: 'ada # lovelace',
      DUCKDB_THREADS: '2',
    });
  });

  it('reach the layers: .env.local over .env.base, the environment over both', () => {
    const ws = mkdtempSync(join(tmpdir(), 'pipe-config-'));
    mkdirSync(join(ws, 'config'));
    writeFileSync(join(ws, 'config/.env.base'), 'A=base # default\nB=base\n');
    writeFileSync(join(ws, 'config/.env.local'), 'export B=local # mine\n');
    const config = new Config(ws, { A: '' });
    expect(config.get('A')).toEqual({ value: 'base', source: '.env.base' });
    expect(config.get('B')).toEqual({ value: 'local', source: '.env.local' });
    expect(new Config(ws, { B: 'env' }).get('B')).toEqual({ value: 'env', source: 'environment' });
    rmSync(ws, { recursive: true });
  });
});

describe('package.json engines', () => {
  it('promises no Node 20 release the test runner (vitest, through vite) refuses', () => {
    const engines = (pkg: string) =>
      (JSON.parse(readFileSync(join(repoRoot, pkg), 'utf8')) as { engines: { node: string } })
        .engines.node;
    // vite: "^20.19.0 || >=22.12.0"; ours must start at that 20.x or later.
    const needed = /\^20\.(\d+)/.exec(engines('node_modules/vite/package.json'));
    const ours = /^>=20\.(\d+)/.exec(engines('package.json'));
    expect(needed, 'vite names a Node 20 minimum').not.toBeNull();
    expect(ours, `engines.node is "${engines('package.json')}", not >=20.N`).not.toBeNull();
    expect(Number(ours![1])).toBeGreaterThanOrEqual(Number(needed![1]));
  });
});
