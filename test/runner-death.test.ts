// A `pipe build` killed with SIGKILL (no handler runs): its stages must die with it, and the
// mutex it leaves must not hold up the next build, even while the dead pipe is a zombie that
// nothing reaps (issue 13). Real processes, a real kill -9; whether a pid still runs is read from
// /proc/<pid>/stat (state Z is a zombie: exited, not running), so the test runs on Linux only.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace, pipeBin, type TempWorkspace } from './helpers/workspace.js';

const linux = process.platform === 'linux';

/** The stage starts a grandchild in its group, writes both pids, then waits for a minute. */
const FILES = {
  'pipeline.yaml': `stages:
  slow:
    cmd: stages/slow.mjs
    deps: [data/in.txt]
    outs: [out/slow.txt]
`,
  'data/in.txt': 'v1\n',
  'stages/slow.mjs': stage`
    import { spawn } from 'node:child_process';
    if (process.env.HANG === '1') {
      const grandchild = spawn('sleep', ['60'], { stdio: 'ignore' });
      fs.writeFileSync('stage-pids.txt', process.pid + ' ' + grandchild.pid + '\\n');
      await new Promise((r) => setTimeout(r, 60_000));
    }
    fs.writeFileSync(out('out/slow.txt'), fs.readFileSync('data/in.txt'));`,
};

/** 'running', 'zombie' or 'gone', from /proc/<pid>/stat's state field. */
function stateOf(pid: number): 'running' | 'zombie' | 'gone' {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X' ? 'zombie' : 'running';
  } catch {
    return 'gone';
  }
}

async function until(what: string, test: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stagePids(ws: TempWorkspace): Promise<number[]> {
  await until('the stage to write its pids', () => /^\d+ \d+\n$/.test(readIf(ws)));
  return readIf(ws).trim().split(' ').map(Number);
}

function readIf(ws: TempWorkspace): string {
  return existsSync(ws.path('stage-pids.txt')) ? ws.read('stage-pids.txt') : '';
}

/**
 * `pipe build` started under a parent that never reaps it: `sh` forks pipe, prints its pid and
 * execs `sleep`, which never calls wait(). A kill -9 then leaves pipe a zombie, as under a
 * supervisor or container init that does not reap.
 */
function buildUnderNonReapingParent(ws: TempWorkspace): {
  pipePid: Promise<number>;
  stop: () => void;
} {
  const parent = spawn(
    '/bin/sh',
    ['-c', '"$0" "$1" build >build.log 2>&1 & echo $!; exec sleep 120', process.execPath, pipeBin],
    {
      cwd: ws.root,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HANG: '1',
        PIPE_TEST_MARKS: '/dev/null',
      },
    },
  );
  const pipePid = new Promise<number>((resolve) => {
    parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { pipePid, stop: () => parent.kill('SIGKILL') };
}

describe.runIf(linux)('kill -9 of pipe build', () => {
  it("kills the stage's whole process group, and the next build runs alone", async () => {
    const ws = await tempWorkspace(FILES);
    const run = ws.start(['build'], { env: { HANG: '1' } });
    const [stagePid, grandchildPid] = await stagePids(ws);
    expect(stateOf(stagePid!)).toBe('running');
    expect(stateOf(grandchildPid!)).toBe('running');
    run.child.kill('SIGKILL');
    await run.done;
    const killedAt = Date.now();
    // Both must stop running; a zombie has stopped (its parent, pipe, is gone and init reaps).
    await until('the stage and its grandchild to die', () =>
      [stagePid!, grandchildPid!].every((p) => stateOf(p) !== 'running'),
    );
    // The watchdog acts on end-of-file, at once: well under a second on an idle machine; 5 s
    // leaves room for a loaded one while still failing a stage that waits out its minute.
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    const next = await ws.pipe('build', '--no-wait');
    expect(next.code, next.stderr).toBe(0);
    expect(ws.read('out/slow.txt')).toBe('v1\n');
  });

  it('kills the group of a later stage too: one watchdog watches each stage in turn', async () => {
    // `first` runs and ends (its group released), then `slow` hangs: the kill must reach it.
    const ws = await tempWorkspace({
      ...FILES,
      'pipeline.yaml': `stages:
  first:
    cmd: stages/first.mjs
    outs: [data/in.txt]
  slow:
    cmd: stages/slow.mjs
    deps: [data/in.txt]
    outs: [out/slow.txt]
`,
      'stages/first.mjs': stage`fs.writeFileSync(out('data/in.txt'), 'v1\\n');`,
    });
    const run = ws.start(['build'], { env: { HANG: '1' } });
    const [stagePid, grandchildPid] = await stagePids(ws);
    expect(ws.read('data/in.txt')).toBe('v1\n');
    run.child.kill('SIGKILL');
    await run.done;
    await until('the later stage and its grandchild to die', () =>
      [stagePid!, grandchildPid!].every((p) => stateOf(p) !== 'running'),
    );
  });

  it('a zombie holder of the mutex is not alive: the next build --no-wait takes over', async () => {
    const ws = await tempWorkspace(FILES);
    const parent = buildUnderNonReapingParent(ws);
    try {
      const pipePid = await parent.pipePid;
      const [stagePid] = await stagePids(ws);
      expect(JSON.parse(ws.read('.pipe/build.lock')).pid).toBe(pipePid);
      process.kill(pipePid, 'SIGKILL');
      await until('pipe to become a zombie', () => stateOf(pipePid) === 'zombie');
      await until('the stage to die', () => stateOf(stagePid!) !== 'running');
      const next = await ws.pipe('build', '--no-wait');
      expect(next.code, next.stderr).toBe(0);
      expect(next.stderr).toContain(
        `took over the build mutex left by pid ${pipePid} (no longer running)`,
      );
      // Still a zombie: the takeover did not wait for anyone to reap it.
      expect(stateOf(pipePid)).toBe('zombie');
    } finally {
      parent.stop();
    }
  });

  it('a mutex record whose pid now belongs to another process is taken over', async () => {
    const ws = await tempWorkspace(FILES);
    // This test process is alive, but it is not the process that wrote the record: the identity
    // (boot id and start time) recorded with the pid differs, as after pid reuse.
    ws.write(
      '.pipe/build.lock',
      `${JSON.stringify({
        pid: process.pid,
        host: (await import('node:os')).hostname(),
        command: 'pipe build',
        since: '2026-01-01T00:00:00.000Z',
        identity: `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/1`,
      })}\n`,
    );
    const next = await ws.pipe('build', '--no-wait');
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`took over the build mutex left by pid ${process.pid}`);
  });

  it('a live holder with its true identity still makes --no-wait exit 5', async () => {
    const ws = await tempWorkspace(FILES);
    const run = ws.start(['build'], { env: { HANG: '1' } });
    try {
      await stagePids(ws);
      const next = await ws.pipe('build', '--no-wait');
      expect(next.code).toBe(5);
    } finally {
      run.child.kill('SIGKILL');
      await run.done;
    }
  });
});
