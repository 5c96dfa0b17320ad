// A stage's outs go in by two renames each (old aside, new in). pipe SIGKILLed between them, or
// after the new out is in but before the lock records it, must not lose the previous outputs: the
// next command holding the build mutex rolls the replacement back, so the outs are again exactly
// what the lock describes. The kill lands at the exact rename through an LD_PRELOAD shim
// (test/support/kill-at.c, compiled here with gcc; skipped, saying so, where there is no gcc).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepoPipeline } from './helpers/repo-copy.js';
import { REPO } from './helpers/run-stage.js';
import { type Tree, treeOf } from './helpers/trees.js';

const scratch = mkdtempSync(join(tmpdir(), 'pipe-replace-'));
const shim = join(scratch, 'kill-at.so');
const gcc = spawnSync(
  'gcc',
  ['-shared', '-fPIC', '-O2', '-o', shim, join(REPO, 'test/support/kill-at.c'), '-ldl'],
  { encoding: 'utf8' },
);
const haveShim = gcc.status === 0;

interface Kill {
  readonly n?: number;
  readonly log?: string;
}

function pipe(root: string, args: readonly string[], kill: Kill = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  if (kill.n !== undefined || kill.log !== undefined) {
    Object.assign(env, { LD_PRELOAD: shim, KILL_AT_PROCESS: 'bin/pipe.js', KILL_AT_WHEN: 'after' });
    if (kill.n !== undefined) env.KILL_AT_N = String(kill.n);
    if (kill.log !== undefined) env.KILL_AT_LOG = kill.log;
  }
  return spawnSync('node', [join(REPO, 'bin/pipe.js'), ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
  });
}

function cleanReasons(root: string): string[] {
  const status = pipe(root, ['status', '--json']);
  expect(status.status, status.stderr).toBe(0);
  const doc = JSON.parse(status.stdout) as {
    stages: { name: string; reasons: { kind: string }[] }[];
  };
  return doc.stages.find((s) => s.name === 'clean')!.reasons.map((r) => r.kind);
}

describe.skipIf(!haveShim)('a kill while outs are being replaced (needs gcc for its shim)', () => {
  let built: string;
  let oldClean: Tree;
  // The held-back upload: its arrival makes clean write different outputs.
  const held = 'ffa2931c-6a17-8b40-577758f4ff88.session.json';

  beforeAll(() => {
    built = copyRepoPipeline('pipe-replace-built-');
    rmSync(join(built, 'samples/webapp', held));
    const b = pipe(built, ['build', 'features']);
    expect(b.status, b.stderr).toBe(0);
    oldClean = treeOf(built, 'data/clean');
  }, 300_000);

  afterAll(() => {
    rmSync(built, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  /** A copy of the built workspace with the new upload arrived, and the renames its build makes. */
  function arrived(tag: string): { root: string; renames: string[] } {
    const root = join(scratch, tag);
    cpSync(built, root, { recursive: true, verbatimSymlinks: true });
    cpSync(join(REPO, 'samples/webapp', held), join(root, 'samples/webapp', held));
    const probe = join(scratch, `${tag}-probe`);
    cpSync(root, probe, { recursive: true, verbatimSymlinks: true });
    const log = join(scratch, `${tag}.log`);
    expect(pipe(probe, ['build', 'features'], { log }).status).toBe(0);
    rmSync(probe, { recursive: true, force: true });
    // "<n> <call> <path>", with the probe's paths: compare by the part after the workspace.
    const renames = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([n, call, path]) => `${n} ${call} ${path!.slice(probe.length)}`);
    return { root, renames };
  }

  const points = [
    [
      'old data/clean moved aside, new one not yet in',
      /^\d+ rename\S* \/\.pipe\/tmp\/clean-[^/]+\/old\/data\/clean$/,
    ],
    ['new data/clean in, the replacement not committed', /^\d+ rename\S* \/data\/clean$/],
  ] as const;

  for (const [moment, pattern] of points) {
    it(`${moment}: the next mutex holder restores the previous data/clean, which matches the lock`, () => {
      const { root, renames } = arrived(moment.replace(/\W+/g, '-'));
      const point = renames.find((line) => pattern.test(line));
      expect(point, renames.join('\n')).toBeDefined();
      const killed = pipe(root, ['build', 'features'], { n: Number(point!.split(' ')[0]) });
      expect(killed.signal).toBe('SIGKILL');
      // The kill landed in the window this case is about.
      const left = treeOf(root, 'data/clean');
      if (moment.startsWith('old')) expect(left).toBeNull();
      else expect(left).not.toEqual(oldClean);

      // Any command that takes the build mutex rolls back; gc --dry-run deletes nothing itself.
      expect(pipe(root, ['gc', '--dry-run']).status).toBe(0);
      expect(treeOf(root, 'data/clean')).toEqual(oldClean);
      expect(existsSync(join(root, '.pipe/tmp'))).toBe(true);
      // Stale only because its input changed (the new upload), not because its outs do not match.
      const reasons = cleanReasons(root);
      expect(reasons).not.toContain('out-missing');
      expect(reasons).not.toContain('out-modified');

      const rebuilt = pipe(root, ['build', 'features']);
      expect(rebuilt.status, rebuilt.stderr).toBe(0);
      expect(cleanReasons(root)).toEqual([]);
      rmSync(root, { recursive: true, force: true });
    }, 300_000);
  }
});
