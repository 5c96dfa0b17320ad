// `pipe versions diff` through the real CLI in temp folders, on a file:// remote (the comparison
// reads manifests only; push-pull.test.ts covers every backend's manifest transport).
//
//   data/in.txt ──▶ gen ──▶ out/gen/w<i>.txt (one word each; metrics records = word count)
//                           └──▶ sum ──▶ out/sum.txt ("<n> files")
//
// Expected counts are derived by hand from the words: A = alpha beta gamma, B = alpha delta gamma
// epsilon. gen: w0 alpha = alpha (unchanged), w1 beta -> delta (changed), w2 gamma = gamma
// (unchanged), w3 epsilon (added); records 3 -> 4. sum: "3 files" -> "4 files" (changed).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace, type RunResult } from './helpers/workspace.js';

function ok(r: RunResult): string {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('pipe versions diff', () => {
  it('compares two pushed versions as a table and as JSON, and previews a push against the workspace', async () => {
    const env = { PIPE_REMOTE: `file://${mkdtempSync(join(tmpdir(), 'pipe-store-'))}` };
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta gamma\n' });
    const run = (...args: string[]) => ws.pipeWith({ env }, ...args);
    ok(await run('build'));
    const a = (
      JSON.parse(ok(await run('push', '--json', '--set-current'))) as { versionId: string }
    ).versionId;
    ws.write('data/in.txt', 'alpha delta gamma epsilon\n');
    ok(await run('build'));
    // A push within the same second takes the next second's ID (push.ts), so B is a new version.
    const b = (
      JSON.parse(ok(await run('push', '--json', '--notes', 'second'))) as { versionId: string }
    ).versionId;
    expect(b).not.toBe(a);

    expect(ok(await run('versions', 'diff', a, b))).toBe(
      [
        `${a} -> ${b}`,
        'stage  added  removed  changed  unchanged  records (A -> B)',
        'gen        1        0        1          2  records 3 -> 4',
        'sum        0        0        1          0',
        'total      1        0        2          2',
        '',
      ].join('\n'),
    );

    const doc = JSON.parse(ok(await run('versions', 'diff', 'current', b, '--json')));
    expect(doc).toEqual({
      schema: 1,
      remote: env.PIPE_REMOTE,
      a: { label: `current (${a})`, version: a },
      b: { label: b, version: b },
      stages: [
        {
          stage: 'gen',
          status: 'changed',
          added: ['out/gen/w3.txt'],
          removed: [],
          changed: ['out/gen/w1.txt'],
          unchanged: 2,
          records: [{ name: 'records', before: 3, after: 4 }],
        },
        {
          stage: 'sum',
          status: 'changed',
          added: [],
          removed: [],
          changed: ['out/sum.txt'],
          unchanged: 0,
          records: [],
        },
      ],
      totals: { added: 1, removed: 0, changed: 2, unchanged: 2 },
    });

    // The workspace side: "alpha" alone keeps w0 and drops w1..w3 of B; sum "1 files" differs.
    ws.write('data/in.txt', 'alpha\n');
    ok(await run('build'));
    const preview = JSON.parse(ok(await run('versions', 'diff', b, 'workspace', '--json')));
    expect(preview.b).toEqual({ label: 'workspace', version: null });
    expect(preview.stages[0]).toMatchObject({
      stage: 'gen',
      added: [],
      removed: ['out/gen/w1.txt', 'out/gen/w2.txt', 'out/gen/w3.txt'],
      changed: [],
      unchanged: 1,
    });
    expect(preview.stages[0].records).toEqual([{ name: 'records', before: 4, after: 1 }]);
    expect(preview.totals).toEqual({ added: 0, removed: 3, changed: 1, unchanged: 1 });

    // Without the per-file lists the lock points at, the workspace side cannot be read: say which.
    ws.remove('.pipe/manifests');
    const lost = await run('versions', 'diff', b, 'workspace');
    expect(lost.code).toBe(7);
    expect(lost.stderr).toContain(
      'workspace: the file list of out/gen (stage gen) is not in .pipe/manifests; rebuild it with `npx pipe build --force-stage gen`',
    );
  });

  // `out/v{1}` is a plain folder name to the one glob rule (lib/util/paths.ts isGlob: a brace
  // with one item expands to nothing); the workspace side of a diff once had its own rule that
  // called any `{` a glob and read the folder's file list without its `out/v{1}/` prefix. The
  // expected answer is independent of either rule: the workspace is exactly what was just pushed.
  it('reads a folder out whose name has a brace as a folder, not a glob', async () => {
    const env = { PIPE_REMOTE: `file://${mkdtempSync(join(tmpdir(), 'pipe-store-'))}` };
    const folder = 'out/v{1}';
    const ws = await tempWorkspace({
      ...GEN_SUM_SOURCES,
      'pipeline.yaml': GEN_SUM_SOURCES['pipeline.yaml']
        .replace('outs: [out/gen]', `outs:\n      - ${folder}`)
        .replace('deps: [out/gen]', `deps:\n      - ${folder}`),
      'stages/gen.mjs': GEN_SUM_SOURCES['stages/gen.mjs'].replace(
        "out('out/gen')",
        `out('${folder}')`,
      ),
      'stages/sum.mjs': GEN_SUM_SOURCES['stages/sum.mjs'].replace(
        "readdirSync('out/gen')",
        `readdirSync('${folder}')`,
      ),
      'data/in.txt': 'alpha beta\n',
    });
    const run = (...args: string[]) => ws.pipeWith({ env }, ...args);
    ok(await run('build'));
    const pushed = (JSON.parse(ok(await run('push', '--json'))) as { versionId: string }).versionId;
    const diff = JSON.parse(ok(await run('versions', 'diff', pushed, 'workspace', '--json')));
    expect(diff.stages[0]).toEqual({
      stage: 'gen',
      status: 'same',
      added: [],
      removed: [],
      changed: [],
      unchanged: 2,
      records: [{ name: 'records', before: 2, after: 2 }],
    });
    expect(diff.totals).toEqual({ added: 0, removed: 0, changed: 0, unchanged: 3 });
  });

  it('names a version the remote does not have, and refuses a malformed name as usage', async () => {
    const env = { PIPE_REMOTE: `file://${mkdtempSync(join(tmpdir(), 'pipe-store-'))}` };
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha\n' });
    const missing = '2020-01-02_03-04-05_nohost-nobody';
    const unknown = await ws.pipeWith({ env }, 'versions', 'diff', missing, 'workspace');
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain(
      `pipe versions diff: version ${missing} is not on the remote ${env.PIPE_REMOTE}`,
    );
    const noRef = await ws.pipeWith({ env }, 'versions', 'diff', 'workspace', 'current');
    expect(noRef.code).toBe(6);
    expect(noRef.stderr).toContain('ref current is not on the remote');
    const bad = await ws.pipeWith({ env }, 'versions', 'diff', 'not a version!', 'workspace');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"not a version!" is neither a version ID');
    expect(unknown.stdout + noRef.stdout + bad.stdout).toBe('');
  });
});
