// Issue 14's stops on the real pipeline (a copy of the repo's, test/helpers/repo-copy.ts):
// `pipe build features` then `pipe push` publishes the four fresh stages and names report as left
// out; and pointing the checkout at another remote leaves the built report fresh.
import { rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyRepoPipeline, runPipeIn } from './helpers/repo-copy.js';

const root = copyRepoPipeline('pipe-newcomer-');
const stores = mkdtempSync(join(tmpdir(), 'pipe-newcomer-stores-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(stores, { recursive: true, force: true });
});

/** pipe in the copy with PIPE_REMOTE pointing at the folder `store` under `stores`. */
function pipe(store: string, ...args: string[]) {
  process.env.PIPE_REMOTE = `file://${join(stores, store)}`;
  try {
    return runPipeIn(root, ...args);
  } finally {
    delete process.env.PIPE_REMOTE;
  }
}

describe('a newcomer on the real pipeline', { timeout: 180_000 }, () => {
  it('`pipe build features` then `pipe push` publishes the fresh stages, naming report', () => {
    expect(pipe('a', 'build', 'features').status).toBe(0);
    const pushed = pipe('a', 'push');
    expect(pushed.status, pushed.stderr).toBe(0);
    expect(pushed.stdout).toContain('(stages download, clean, keypairs, features)');
    expect(pushed.stdout).toMatch(/left out .*\n {2}report: never built\n/);
  });

  it('another PIPE_REMOTE leaves a built report fresh', () => {
    expect(pipe('a', 'build', 'report').status).toBe(0);
    const status = pipe('b', 'status', '--check');
    expect(status.status, status.stdout).toBe(0);
  });
});
