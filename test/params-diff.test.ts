// `pipe params diff [A B]`: pipeline.lock against params.yaml, and any two of workspace, lock and
// published versions. Expected rows are the values this test writes into params.yaml.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace } from './helpers/workspace.js';

const FILES = {
  'pipeline.yaml': `stages:
  a:
    cmd: stages/a.mjs
    params: [clean.max_hold_ms, features.m]
    outs: [out/a.txt]
  b:
    cmd: stages/b.mjs
    params: [features.m]
    outs: [out/b.txt]
`,
  'params.yaml': 'clean:\n  max_hold_ms: 5000\nfeatures:\n  m: 50\n',
  'stages/a.mjs': stage`fs.writeFileSync(out('out/a.txt'), JSON.stringify(__params));`,
  'stages/b.mjs': stage`fs.writeFileSync(out('out/b.txt'), JSON.stringify(__params));`,
};

describe('pipe params diff', () => {
  it('lock against workspace, a version against the workspace, as a table and as JSON', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pipe-params-store-'));
    const ws = await tempWorkspace(FILES);
    const run = (...args: string[]) =>
      ws.pipeWith({ env: { PIPE_REMOTE: `file://${store}` } }, ...args);
    expect((await run('build')).code).toBe(0);
    expect((await run('params', 'diff')).stdout).toBe(
      'no param differs between lock and workspace\n',
    );
    const pushed = await run('push', '--json');
    const id = (JSON.parse(pushed.stdout) as { versionId: string }).versionId;

    ws.write('params.yaml', 'clean:\n  max_hold_ms: 4000\nfeatures:\n  m: 50\n');
    const r = await run('params', 'diff');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'param              lock  workspace  read by\nclean.max_hold_ms  5000  4000       a\n',
    );
    const all = JSON.parse(
      (await run('params', 'diff', id, 'workspace', '--json', '--all')).stdout,
    );
    expect(all).toEqual({
      schema: 1,
      a: id,
      b: 'workspace',
      params: [
        { key: 'clean.max_hold_ms', a: 5000, b: 4000, changed: true, stages: ['a'] },
        { key: 'features.m', a: 50, b: 50, changed: false, stages: ['a', 'b'] },
      ],
    });
    const bad = await run('params', 'diff', 'no such thing');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a side is workspace, lock, or a version ID or ref');
  });
});
