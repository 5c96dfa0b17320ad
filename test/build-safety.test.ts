// Nothing half-done: kills, Ctrl-C, failures and concurrent builds, with real processes the test
// makes hang, fail or die at will.
//
//   data/in.txt ──▶ slow ──▶ out/slow/ (a.txt, b.txt) ──▶ after ──▶ out/after.txt
//
// `slow` writes a.txt, then, when HANG=1 is set (not a declared env input, so not part of the
// fingerprint), prints "HALF pid=<its pid>" and hangs before writing b.txt. With GATE=<file> it
// marks its start, waits until the test creates that file, and marks its end.
import { hostname } from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const FILES = {
  'pipeline.yaml': `stages:
  slow:
    cmd: stages/slow.mjs
    deps: [data/in.txt]
    outs: [out/slow]
  after:
    cmd: stages/after.mjs
    deps: [out/slow]
    outs: [out/after.txt]
`,
  'data/in.txt': 'v1\n',
  'stages/slow.mjs': stage`
    const v = fs.readFileSync('data/in.txt', 'utf8').trim();
    fs.mkdirSync(out('out/slow'));
    fs.writeFileSync(path.join(out('out/slow'), 'a.txt'), v + '-a\\n');
    if (process.env.HANG === '1') {
      console.log('HALF pid=' + process.pid);
      await new Promise((r) => setTimeout(r, 60_000));
    }
    if (process.env.GATE) {
      // Holds the build open until the test creates the GATE file.
      mark('start ' + Date.now());
      while (!fs.existsSync(process.env.GATE)) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 50));
      mark('end ' + Date.now());
    }
    fs.writeFileSync(path.join(out('out/slow'), 'b.txt'), v + '-b\\n');`,
  'stages/after.mjs': stage`
    const files = fs.readdirSync('out/slow').sort();
    fs.writeFileSync(out('out/after.txt'), files.map((f) => fs.readFileSync('out/slow/' + f, 'utf8')).join(''));`,
};

async function builtV1(): Promise<TempWorkspace> {
  const ws = await tempWorkspace(FILES);
  expect((await ws.pipe('build')).code).toBe(0);
  ws.clearRuns();
  return ws;
}

function pidIn(output: string): number {
  const m = /HALF pid=(\d+)/.exec(output);
  if (m === null) throw new Error(`no pid in: ${output}`);
  return Number(m[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Exited but not yet reaped (Linux); elsewhere a process kill(pid, 0) finds is running. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** The previous build's outputs and lock, unchanged. */
function expectV1Intact(ws: TempWorkspace, lockV1: string): void {
  expect(ws.read('out/slow/a.txt')).toBe('v1-a\n');
  expect(ws.read('out/slow/b.txt')).toBe('v1-b\n');
  expect(ws.read('pipeline.lock')).toBe(lockV1);
  expect(() => JSON.parse(ws.read('pipeline.lock')) as unknown).not.toThrow();
}

describe('crash safety', () => {
  it('a stage SIGKILLed mid-write: old outs intact, status stale, next build recovers', async () => {
    const ws = await builtV1();
    const lockV1 = ws.read('pipeline.lock');
    ws.write('data/in.txt', 'v2\n');
    const run = ws.start(['build'], { env: { HANG: '1' } });
    await run.waitFor(/HALF pid=\d+/);
    process.kill(pidIn(run.output()), 'SIGKILL');
    const r = await run.done;
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'slow: FAILED: killed by SIGKILL\n  full log: .pipe/logs/slow.log\n',
    );
    expect(r.stderr).toContain('after: not run, because stage slow failed\n');
    expectV1Intact(ws, lockV1);
    expect(readdirSync(ws.path('.pipe/tmp'))).toEqual([]);
    expect((await ws.pipe('status')).stdout).toBe(
      'slow: stale\n  dep modified: data/in.txt\nafter: stale\n  upstream stale: slow\n2 of 2 stages stale; run `npx pipe build`\n',
    );
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/after.txt')).toBe('v2-a\nv2-b\n');
    expect((await ws.pipe('status', '--check')).code).toBe(0);
  });

  it('pipe itself SIGKILLed mid-stage: the next build takes over the mutex and recovers', async () => {
    const ws = await builtV1();
    const lockV1 = ws.read('pipeline.lock');
    ws.write('data/in.txt', 'v2\n');
    const run = ws.start(['build'], { env: { HANG: '1' } });
    await run.waitFor(/HALF pid=\d+/);
    const stagePid = pidIn(run.output());
    run.child.kill('SIGKILL');
    await run.done;
    // The stage dies with pipe (its watchdog sees pipe's end of the pipe close): no orphan.
    const deadline = Date.now() + 10_000;
    while (alive(stagePid) && !isZombie(stagePid) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(alive(stagePid) && !isZombie(stagePid)).toBe(false);
    expect(ws.exists('.pipe/build.lock')).toBe(true);
    expectV1Intact(ws, lockV1);
    expect((await ws.pipe('status', '--check')).code).toBe(1);
    const next = await ws.pipe('build');
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(
      `took over the build mutex left by pid ${run.child.pid} (no longer running)`,
    );
    expect(ws.read('out/after.txt')).toBe('v2-a\nv2-b\n');
    expect(readdirSync(ws.path('.pipe/tmp'))).toEqual([]);
  });

  it('Ctrl-C kills the stage, records nothing for it, exits 130', async () => {
    const ws = await builtV1();
    const lockV1 = ws.read('pipeline.lock');
    ws.write('data/in.txt', 'v2\n');
    const run = ws.start(['build'], { env: { HANG: '1' } });
    await run.waitFor(/HALF pid=\d+/);
    const stagePid = pidIn(run.output());
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('slow: interrupted; nothing recorded\n');
    expect(alive(stagePid)).toBe(false);
    expectV1Intact(ws, lockV1);
    expect(ws.exists('.pipe/build.lock')).toBe(false);
    expect(readdirSync(ws.path('.pipe/tmp'))).toEqual([]);
  });
});

describe('failures', () => {
  it('a failed stage stops its descendants, lets independent stages finish, names itself and its log', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:
  bad:
    cmd: stages/bad.mjs
    outs: [out/bad.txt]
  below:
    cmd: stages/below.mjs
    deps: [out/bad.txt]
    outs: [out/below.txt]
  good:
    cmd: stages/good.mjs
    outs: [out/good.txt]
`,
      'stages/bad.mjs': stage`
        fs.writeFileSync(out('out/bad.txt'), 'partial');
        console.error('boom: the input is broken');
        process.exit(3);`,
      'stages/below.mjs': stage`fs.writeFileSync(out('out/below.txt'), 'x');`,
      'stages/good.mjs': stage`
        await new Promise((r) => setTimeout(r, 300)); // still running when bad fails
        fs.writeFileSync(out('out/good.txt'), 'good\\n');`,
    });
    const r = await ws.pipe('build', '-j', '2');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('bad: FAILED: exited with code 3\n  full log: .pipe/logs/bad.log\n');
    expect(r.stderr.match(/boom: the input is broken/g)).toEqual(['boom: the input is broken']);
    expect(r.stderr).toContain('[bad] boom: the input is broken\n');
    expect(r.stderr).toContain('below: not run, because stage bad failed\n');
    expect(r.stderr).toContain('build failed: 1 ran, 0 fresh, 1 failed (bad), 1 not run in');
    expect(ws.runs().sort()).toEqual(['bad', 'good']);
    expect(ws.read('out/good.txt')).toBe('good\n');
    expect(ws.exists('out/bad.txt')).toBe(false);
    expect(ws.read('.pipe/logs/bad.log')).toBe('boom: the input is broken\n');
    const lock = JSON.parse(ws.read('pipeline.lock')) as { stages: Record<string, unknown> };
    expect(Object.keys(lock.stages)).toEqual(['good']);
  });

  it('a stage that exits 0 without writing an out fails', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': 'stages:\n  lazy:\n    cmd: stages/lazy.mjs\n    outs: [out/lazy.txt]\n',
      'stages/lazy.mjs': stage`console.log('forgot to write');`,
    });
    const r = await ws.pipe('build');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'lazy: FAILED: exited 0 but did not write out out/lazy.txt (write it to the path PIPE_OUTS gives)\n',
    );
    expect(ws.exists('pipeline.lock')).toBe(false);
  });
});

describe('build mutex', () => {
  it('a second build waits, naming the holder, and the two never interleave', async () => {
    const ws = await builtV1();
    const gate = ws.path('../gate');
    const first = ws.start(['build', '--force', 'slow'], { env: { GATE: gate } });
    await first.waitFor(/slow: running/);
    const second = ws.start(['build', '--force', 'slow'], { env: { GATE: gate } });
    // The first build is held open by its stage until the second says it is waiting.
    await second.waitFor(/waiting for the build mutex/);
    writeFileSync(gate, '');
    const [r1, r2] = await Promise.all([first.done, second.done]);
    expect([r1.code, r2.code]).toEqual([0, 0]);
    const waitLine = new RegExp(
      `^waiting for the build mutex: pid ${first.child.pid} on ${hostname()} \\(pipe build --force slow\\) holds it since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z$`,
      'm',
    );
    expect(r2.stderr).toMatch(waitLine);
    expect(r2.stderr.match(/waiting for the build mutex/g)).toHaveLength(1); // one line, not one per poll
    const marks = ws.runs().filter((l) => /^slow (start|end) /.test(l));
    expect(marks.map((l) => l.split(' ')[1])).toEqual(['start', 'end', 'start', 'end']);
    const times = marks.map((l) => Number(l.split(' ')[2]));
    expect(times[1]!).toBeLessThanOrEqual(times[2]!); // the second started after the first ended
  });

  it('--no-wait fails at once with exit 5 and names the holder', async () => {
    const ws = await builtV1();
    ws.write('data/in.txt', 'v2\n');
    const first = ws.start(['build'], { env: { HANG: '1' } });
    await first.waitFor(/HALF pid=\d+/);
    const second = await ws.pipe('build', '--no-wait');
    expect(second.code).toBe(5);
    expect(second.stderr).toMatch(
      new RegExp(
        `^pipe: another build holds this workspace: pid ${first.child.pid} on ${hostname()} \\(pipe build\\) since \\S+Z\\.\n`,
      ),
    );
    first.child.kill('SIGINT');
    expect((await first.done).code).toBe(130);
  });
});
