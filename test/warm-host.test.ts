// A compiled TypeScript stage may run in a node process started ahead, while the stage before it
// ran (lib/build/warm-host.ts, lib/build/stage-host.ts), through the real `pipe build` in temp
// workspaces: it sees its own environment, argv and outs as a fresh start would, its failures
// are reported as a fresh start's, and no process started ahead outlives the build.
//
// The proof a stage ran in a process started ahead is the process itself, not pipe's word: its
// command line is the host's (lib/build/stage-host.ts; pipe starts one only ahead of a stage), and
// for a stage after another, the clock: its start (Date.now() - process.uptime()) is before the
// stage above it finished. (The first stage's host is started as the build begins, but its start
// is not timed against the look at the first stage's deps: in a workspace this small that look
// can end before node has started on a loaded machine.)
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const PIPELINE = `stages:
  first:
    cmd: stages/first.ts
    deps: [data/in.txt]
    outs: [out/first.txt]
  second:
    cmd: stages/second.ts
    deps: [out/first.txt]
    outs: [out/second.json]
`;

/**
 * Says when its process started, takes a while (so the next stage's process can start beside it),
 * then says when it ended.
 */
const FIRST = `import { readFileSync, writeFileSync } from 'node:fs';
const startedAt = Date.now() - process.uptime() * 1000;
await new Promise((resolve) => setTimeout(resolve, 400));
const outs = JSON.parse(process.env.PIPE_OUTS!) as Record<string, string>;
writeFileSync(outs['out/first.txt']!, readFileSync('data/in.txt', 'utf8').toUpperCase());
const host = readFileSync('/proc/self/cmdline', 'utf8').includes('stage-host.js');
console.log(JSON.stringify({ startedAt, endedAt: Date.now(), host }));
`;

/** Says what it was started with, and writes its out from its dep; with HANG=1 it hangs. */
const SECOND = `import { readFileSync, writeFileSync } from 'node:fs';
if (readFileSync('out/first.txt', 'utf8').includes('FAIL')) throw new Error('second refuses FAIL');
if (process.env.HANG === '1') {
  writeFileSync('second-pid.txt', String(process.pid));
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}
const outs = JSON.parse(process.env.PIPE_OUTS!) as Record<string, string>;
writeFileSync(outs['out/second.json']!, JSON.stringify({ text: readFileSync('out/first.txt', 'utf8') }));
const pipeVars = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PIPE_')));
console.log(JSON.stringify({
  startedAt: Date.now() - process.uptime() * 1000,
  argv: process.argv,
  execArgv: process.execArgv,
  pipeVars,
  extra: process.env.EXTRA_VAR ?? null,
}));
`;

const FILES = {
  'pipeline.yaml': PIPELINE,
  'package.json': '{ "type": "module" }\n',
  'data/in.txt': 'hello\n',
  'stages/first.ts': FIRST,
  'stages/second.ts': SECOND,
};

interface BuildEvent {
  readonly time: string;
  readonly type: string;
  readonly stage?: string;
  readonly line?: string;
}

/** The events of a `--log-format json` build. */
function events(stdout: string): BuildEvent[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as BuildEvent);
}

/** The JSON line stage `name` printed. */
function printed<T>(all: readonly BuildEvent[], name: string): T {
  const e = all.find(
    (x) => x.type === 'stage-output' && x.stage === name && x.line?.startsWith('{'),
  );
  if (e === undefined) throw new Error(`${name} printed no JSON line`);
  return JSON.parse(e.line!) as T;
}

/** Processes whose command line names this workspace and the host script: hosts left running. */
function hostsOf(ws: TempWorkspace): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (cmdline.includes('stage-host.js') && cmdline.includes(ws.root)) found.push(Number(pid));
  }
  return found;
}

/** Whether `pid` runs (a zombie has stopped running: its parent, pipe, is gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function noHostsLeft(ws: TempWorkspace): Promise<number[]> {
  // An unneeded host exits on end-of-file on its fd 3, a few ms after pipe ends it.
  for (let i = 0; i < 40 && hostsOf(ws).length > 0; i++) await sleep(50);
  return hostsOf(ws);
}

describe.skipIf(process.platform !== 'linux')('a stage started ahead', () => {
  it('runs as the stage: its own PIPE_* variables, argv and outs, in a process started before the stage above it ended', async () => {
    const ws = await tempWorkspace(FILES);
    const r = await ws.pipeWith({ env: { EXTRA_VAR: 'kept' } }, 'build', '--log-format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const all = events(r.stdout);
    const first = printed<{ startedAt: number; endedAt: number; host: boolean }>(all, 'first');
    // The first stage ran in a host too: the one started as the build began.
    expect(first.host).toBe(true);
    const second = printed<{
      startedAt: number;
      argv: string[];
      execArgv: string[];
      pipeVars: Record<string, string>;
      extra: string | null;
    }>(all, 'second');
    expect(second.startedAt).toBeLessThan(first.endedAt);
    expect(second.execArgv).toEqual(['--enable-source-maps']);
    expect(second.argv[1]).toBe(ws.path('stages/second.ts'));
    expect(second.extra).toBe('kept');
    // Its own variables, none of first's: the deps and outs are second's.
    expect(second.pipeVars.PIPE_STAGE).toBe('second');
    expect(JSON.parse(second.pipeVars.PIPE_DEPS!)).toEqual(['out/first.txt']);
    expect(Object.keys(JSON.parse(second.pipeVars.PIPE_OUTS!))).toEqual(['out/second.json']);
    expect(second.pipeVars.PIPE_OUT_1).toBe(
      JSON.parse(second.pipeVars.PIPE_OUTS!)['out/second.json'],
    );
    expect(second.pipeVars.PIPE_COMPILED).toMatch(/\.pipe\/compiled\/[0-9a-f]{64}$/);
    expect(JSON.parse(ws.read('out/second.json'))).toEqual({ text: 'HELLO\n' });
    expect(await noHostsLeft(ws)).toEqual([]);
  });

  it('fails as a fresh start fails: the exit code and the error in the tail, the stage above recorded', async () => {
    const ws = await tempWorkspace({ ...FILES, 'data/in.txt': 'fail\n' });
    const r = await ws.pipe('build');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/second.*exited with code 1/);
    expect(r.stderr).toContain('second refuses FAIL');
    expect(ws.read('out/first.txt')).toBe('FAIL\n');
    expect(ws.exists('out/second.json')).toBe(false);
    expect(await noHostsLeft(ws)).toEqual([]);
  });

  it('dies with pipe: a kill -9 of pipe while it runs the stage kills it', async () => {
    const ws = await tempWorkspace(FILES);
    const run = ws.start(['build'], { env: { HANG: '1' } });
    await run.waitFor(/second/, 20_000);
    for (let i = 0; i < 200 && !ws.exists('second-pid.txt'); i++) await sleep(50);
    const pid = Number(ws.read('second-pid.txt'));
    expect(alive(pid)).toBe(true);
    run.child.kill('SIGKILL');
    await run.done;
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    expect(alive(pid)).toBe(false);
    expect(await noHostsLeft(ws)).toEqual([]);
  });

  it('leaves no process behind when nothing runs (started for the first stage, never taken)', async () => {
    const ws = await tempWorkspace(FILES);
    expect((await ws.pipe('build')).code).toBe(0);
    const noop = await ws.pipe('build');
    expect(noop.code, noop.stderr).toBe(0);
    expect(noop.stdout).not.toContain('[first]');
    expect(await noHostsLeft(ws)).toEqual([]);
  });
});
