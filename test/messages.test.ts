// What a build, `versions` and `status` say, as issue 14 found them wrong: each message checked in
// the real CLI's output, with the expected text written out by hand from the pipeline here.
//
//   a ──▶ b ──▶ c          (a fails on demand: FAIL=1)
//   data/in.txt ──▶ gen ──▶ sum   (test/helpers/gen-sum.ts, for the remote-cache cases)
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GEN_SUM_SOURCES } from './helpers/gen-sum.js';
import { makeTestKey } from './helpers/signing.js';
import { pipeBin, stage, tempWorkspace } from './helpers/workspace.js';

const CHAIN = {
  'pipeline.yaml': `stages:
  a:
    cmd: stages/a.mjs
    outs: [out/a.txt]
  b:
    cmd: stages/b.mjs
    deps: [out/a.txt]
    outs: [out/b.txt]
  c:
    cmd: stages/c.mjs
    deps: [out/b.txt]
    outs: [out/c.txt]
`,
  'stages/a.mjs': stage`
    if (process.env.FAIL) { console.error('boom: the input is bad'); process.exit(1); }
    fs.writeFileSync(out('out/a.txt'), 'a');`,
  'stages/b.mjs': stage`fs.writeFileSync(out('out/b.txt'), 'b');`,
  'stages/c.mjs': stage`fs.writeFileSync(out('out/c.txt'), 'c');`,
};

const ESC = '\x1b[';

describe('build messages', () => {
  it('a stage whose outs were missing is not reported as "outs unchanged"', async () => {
    const ws = await tempWorkspace(CHAIN);
    expect((await ws.pipe('build')).code).toBe(0);
    ws.remove('out'); // a fresh clone: pipeline.lock committed, outputs absent
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('outs unchanged');
    // Early cutoff, where it is true, is still said.
    const forced = await ws.pipe('build', '--force-stage', 'a');
    expect(forced.stdout).toContain('a: done in');
    expect(forced.stdout).toContain('(outs unchanged: stages below stay fresh)');
  });

  it("prints a failing stage's error once, and blames the failed stage for everything below", async () => {
    const ws = await tempWorkspace(CHAIN);
    const r = await ws.pipeWith({ env: { FAIL: '1' } }, 'build');
    expect(r.code).toBe(4);
    expect(r.stderr.split('boom: the input is bad').length - 1).toBe(1);
    expect(r.stderr).toContain('a: FAILED: ');
    expect(r.stderr).toContain('  full log: .pipe/logs/a.log');
    expect(r.stderr).toContain('b: not run, because stage a failed\n');
    expect(r.stderr).toContain(
      'c: not run, because stage a failed (it reads b, which did not run)\n',
    );
  });

  it('counts stages pulled from the remote cache apart from those run, and says an unusable remote once, unlabelled', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pipe-msg-store-'));
    // The build cache reuses only versions a trusted key signed (docs/threat-model.md).
    const team = makeTestKey();
    const env = { env: { PIPE_REMOTE: `file://${store}`, PIPE_SIGNING_KEY: team.path } };
    const files = {
      ...GEN_SUM_SOURCES,
      'data/in.txt': 'one two\n',
      'config/trusted-keys/team.pub': team.pubLine('the team'),
    };
    const a = await tempWorkspace(files);
    expect((await a.pipeWith(env, 'build')).code).toBe(0);
    expect((await a.pipeWith(env, 'push')).code).toBe(0);
    const b = await tempWorkspace(files);
    const pulled = await b.pipeWith(env, 'build');
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(
      /^gen: pulled from version \S+, pushed by \S+, signed by .*, instead of running: 2 files, 8 B in /m,
    );
    expect(pulled.stdout).toMatch(
      /^build finished: 0 ran, 2 pulled from the remote cache, 0 fresh in /m,
    );

    const c = await tempWorkspace(files);
    const gone = `file://${store}/no-such-disk/store`;
    const r = await c.pipeWith({ env: { PIPE_REMOTE: gone } }, 'build');
    expect(r.code).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('remote cache not used'));
    expect(warnings).toEqual([
      `remote cache not used: remote ${gone} is unreachable: folder ${store}/no-such-disk does not exist, so the remote ${store}/no-such-disk/store cannot be created in it (is the disk mounted? create it: mkdir -p ${store}/no-such-disk/store); stale stages run locally`,
    ]);
  });
});

describe('pipe versions', () => {
  it('says records in words, sizes in units, and "1 file"', async () => {
    const store = mkdtempSync(join(tmpdir(), 'pipe-msg-store-'));
    const env = { env: { PIPE_REMOTE: `file://${store}` } };
    const ws = await tempWorkspace({ ...GEN_SUM_SOURCES, 'data/in.txt': 'alpha beta gamma\n' });
    expect((await ws.pipeWith(env, 'build')).code).toBe(0);
    expect((await ws.pipeWith(env, 'push')).code).toBe(0);
    const r = await ws.pipeWith(env, 'versions');
    // gen writes "alpha\n", "beta\n", "gamma\n" (6 + 5 + 6 bytes) and reports 3 records;
    // sum writes "3 files\n" (8 bytes).
    expect(r.stdout).toMatch(/^ {2}gen: out\/gen \(3 files, 17 B, ran \d+\.\ds\): 3 records$/m);
    expect(r.stdout).toMatch(/^ {2}sum: out\/sum\.txt \(1 file, 8 B, ran \d+\.\ds\)$/m);
    expect(r.stdout).not.toContain('{');
  });
});

describe('colour', () => {
  /** `pipe status` in `cwd` on a pseudo-terminal (script(1)), with `env` added. */
  function onTerminal(cwd: string, env: Record<string, string>): string {
    const r = spawnSync('script', ['-qec', `${process.execPath} ${pipeBin} status`, '/dev/null'], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), TERM: 'xterm', ...env },
    });
    return r.stdout;
  }

  it('on a terminal; never into a pipe, in CI, or with NO_COLOR or TERM=dumb; FORCE_COLOR forces it', async () => {
    const ws = await tempWorkspace(CHAIN);
    const onTty = onTerminal(ws.root, {});
    expect(onTty).toContain('a: ');
    expect(onTty).toContain(`${ESC}33mstale`);
    expect(onTerminal(ws.root, { NO_COLOR: '1' })).not.toContain(ESC);
    expect(onTerminal(ws.root, { TERM: 'dumb' })).not.toContain(ESC);
    expect(onTerminal(ws.root, { CI: 'true' })).not.toContain(ESC);
    const piped = await ws.pipeWith({ env: { CI: '' } }, 'status');
    expect(piped.stdout).toContain('a: stale');
    expect(piped.stdout).not.toContain(ESC);
    const forced = await ws.pipeWith({ env: { FORCE_COLOR: '1' } }, 'build');
    expect(forced.stdout).toContain(`${ESC}32mdone`);
  });
});

describe('pipe build --keep-going and --downstream', () => {
  const FORK = {
    ...CHAIN,
    'pipeline.yaml': `${CHAIN['pipeline.yaml']}  other:
    cmd: stages/other.mjs
    outs: [out/other.txt]
`,
    'stages/other.mjs': stage`fs.writeFileSync(out('out/other.txt'), 'o');`,
  };

  it('after a failure starts no new stage, unless --keep-going runs what does not read from it', async () => {
    const ws = await tempWorkspace(FORK);
    // -j 1: a, b, c, other in declaration order; a fails first.
    const r = await ws.pipeWith({ env: { FAIL: '1' } }, 'build', '-j', '1');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'other: not started: stage a failed first (--keep-going runs what does not read from it)\n',
    );
    expect(ws.runs()).toEqual(['a']);
    ws.clearRuns();
    const k = await ws.pipeWith({ env: { FAIL: '1' } }, 'build', '-j', '1', '--keep-going');
    expect(k.code).toBe(4);
    expect(ws.runs()).toEqual(['a', 'other']);
    expect(k.stderr).toContain(
      'c: not run, because stage a failed (it reads b, which did not run)\n',
    );
  });

  it('--downstream STAGE brings the stage and everything reading from it up to date, nothing else', async () => {
    const ws = await tempWorkspace(FORK);
    const r = await ws.pipe('build', '--downstream', 'b');
    expect(r.code, r.stderr).toBe(0);
    // b, c below it; a because b reads it (it was never built); other is unrelated.
    expect(ws.runs()).toEqual(['a', 'b', 'c']);
    expect((await ws.pipe('build', '--downstream', 'nope')).code).toBe(2);
  });
});
