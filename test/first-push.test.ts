// A newcomer's first push, through the real CLI: the default remote is a folder beside the
// checkout that nobody created (`file://../pipe-remote`, as config/.env.base says), a build of
// only some stages, and pushes repeated from the same and from a second checkout.
//
//   data/in.txt ──▶ gen ──▶ out/gen/ ──▶ sum ──▶ out/sum.txt        (test/helpers/gen-sum.ts)
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { tempWorkspace, type RunResult } from './helpers/workspace.js';

const SOURCES = {
  ...GEN_SUM_SOURCES,
  'data/in.txt': 'alpha beta gamma\n',
  'config/.env.base': 'PIPE_REMOTE=file://../pipe-remote\n',
};

/** The version IDs stored in the folder store (its versions/ folder), read without pipe. */
function storedVersions(store: string): string[] {
  const dir = join(store, 'versions');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function ok(r: RunResult): RunResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('the default file:// remote, not created yet', () => {
  it('reads as "no versions yet" (exit 0), costs the build no warning, and is made by the first push', async () => {
    const ws = await tempWorkspace(SOURCES);
    const store = join(dirname(ws.root), 'pipe-remote');
    const versions = ok(await ws.pipe('versions'));
    expect(versions.stdout).toBe(
      'no versions on file://../pipe-remote yet (publish one with `npx pipe push`)\n',
    );
    expect(ok(await ws.pipe('versions', '--json')).stdout).toContain('"versions": []');
    const build = ok(await ws.pipe('build'));
    // Not "unreachable" (without trusted keys the cache is not consulted at all, and says so).
    expect(build.stderr, 'no warning about a store not made yet').not.toMatch(
      /unreachable|does not exist|mkdir/,
    );
    expect(existsSync(store), 'reading creates nothing').toBe(false);
    const pushed = ok(await ws.pipe('push'));
    expect(pushed.stdout).toMatch(/^pushed version \S+ to file:\/\/\.\.\/pipe-remote/);
    expect(storedVersions(store)).toHaveLength(1);
  });
});

describe('pipe push [stage...]', () => {
  it('by default publishes the fresh stages, naming the stale ones it leaves out', async () => {
    const ws = await tempWorkspace(SOURCES);
    ok(await ws.pipe('build', 'gen'));
    const pushed = ok(await ws.pipe('push'));
    expect(pushed.stdout).toMatch(/\(stages gen\)/);
    expect(pushed.stdout).toContain(
      'left out (not fresh; `npx pipe build` them, then push again):\n  sum: never built\n',
    );
    const doc = JSON.parse(ok(await ws.pipe('versions', '--json')).stdout) as {
      versions: { stages: Record<string, unknown> }[];
    };
    expect(doc.versions.map((v) => Object.keys(v.stages))).toEqual([['gen']]);
  });

  it('publishes a named stage with its upstream, and refuses only when one of those is stale', async () => {
    const ws = await tempWorkspace(SOURCES);
    ok(await ws.pipe('build', 'gen'));
    const refused = await ws.pipe('push', 'sum');
    expect(refused.code).toBe(7);
    expect(refused.stderr).toBe(
      'pipe push: refused: 1 stale stage (sum) would be published; run `npx pipe build sum` first\n  sum: never built\n',
    );
    ok(await ws.pipe('build'));
    ws.write('data/in.txt', 'other words here\n'); // gen (and so sum) stale again
    const refusedUp = await ws.pipe('push', 'sum');
    expect(refusedUp.code).toBe(7);
    expect(refusedUp.stderr).toBe(
      'pipe push: refused: 1 stale stage (gen) would be published; run `npx pipe build sum` first\n  gen: dep modified: data/in.txt\n',
    );
    ws.write('data/in.txt', 'alpha beta gamma\n');
    expect(ok(await ws.pipe('push', 'sum')).stdout).toMatch(/\(stages gen, sum\)/);
    const unknown = await ws.pipe('push', 'summ');
    expect(unknown.code).toBe(2);
  });

  it('leaves out a fresh stage whose upstream is stale, blaming that upstream', async () => {
    const ws = await tempWorkspace(SOURCES);
    ok(await ws.pipe('build'));
    ws.write('data/in.txt', 'changed\n'); // gen stale; sum's own inputs (out/gen) unchanged
    const refused = await ws.pipe('push');
    expect(refused.code).toBe(7);
    expect(refused.stderr).toBe(
      'pipe push: refused: no stage is fresh, so there is nothing to publish; run `npx pipe build` first\n' +
        '  gen: dep modified: data/in.txt\n  sum: upstream stale: gen\n',
    );
  });
});

describe('an unchanged re-push', () => {
  it('names the version holding the outputs and adds none, from this checkout or another', async () => {
    const a = await tempWorkspace(SOURCES);
    const store = join(dirname(a.root), 'pipe-remote');
    const env = { env: { PIPE_REMOTE: `file://${store}` } };
    ok(await a.pipeWith(env, 'build'));
    const first = ok(await a.pipeWith(env, 'push')).stdout.match(/pushed version (\S+)/)![1]!;
    const again = ok(await a.pipeWith(env, 'push', '--set-current'));
    expect(again.stdout).toContain(
      `version ${first} already holds these outputs (stages gen, sum): no new version made`,
    );
    expect(again.stdout).toContain(`current -> ${first}`);
    // A second checkout (a fresh clone) with the same inputs builds the same outputs.
    const b = await tempWorkspace(SOURCES);
    ok(
      await b.pipeWith(
        { env: { ...env.env, PIPE_USER: 'teammate' } },
        'build',
        '--no-remote-cache',
      ),
    );
    const fromB = ok(await b.pipeWith(env, 'push'));
    expect(fromB.stdout).toContain(`version ${first} already holds these outputs`);
    expect(storedVersions(store)).toEqual([`${first}.json`]);
    // --notes asks for a new record, and says which version holds the same outputs.
    const noted = ok(await a.pipeWith(env, 'push', '--notes', 'for the paper'));
    expect(noted.stdout).toContain(
      `a new record because --notes was given; version ${first} holds the same outputs`,
    );
    expect(storedVersions(store)).toHaveLength(2);
  });
});
