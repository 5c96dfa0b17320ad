// A cmd that is a command line (python3, sh) runs under the same stage contract as a node
// script: PIPE_* variables, temp outs moved into place only on success, output in the log, a
// failure that names the exit code and the stderr tail, and Ctrl-C/SIGTERM killing the command
// and everything it started. Expected contents are computed in the test from the inputs it wrote
// (the stages are one-line transformations: upper-casing, a param printed back).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

/** Reads PIPE_OUTS and PIPE_PARAMS (JSON) and writes one line per input line: `<n> <line>`. */
const TRAIN_PY = `import json, os
outs = json.loads(os.environ["PIPE_OUTS"])
params = json.loads(os.environ["PIPE_PARAMS"])
n = params["train.repeat"]
with open("data/in.txt") as f, open(outs["out/model dir/model.txt"], "w") as out:
    for line in f:
        out.write(f"{n} {line}")
print("trained on", os.environ["PIPE_STAGE"])
`;

const PIPELINE = `stages:
  train:
    cmd: python3 train.py
    deps: [train.py, data/in.txt]
    params: [train.repeat]
    outs: [out/model dir/model.txt]
  shout:
    cmd: sh -c 'tr a-z A-Z < "out/model dir/model.txt" > "$PIPE_OUT_1"; echo shouted >&2'
    deps: [out/model dir/model.txt]
    outs: [out/shout.txt]
`;

async function pythonWorkspace(): Promise<TempWorkspace> {
  return tempWorkspace({
    'pipeline.yaml': PIPELINE,
    'params.yaml': 'train:\n  repeat: 2\n',
    'train.py': TRAIN_PY,
    'data/in.txt': 'alpha\nbeta\n',
  });
}

interface Lock {
  stages: Record<string, { outs: Record<string, unknown> }>;
}

function lockOf(ws: TempWorkspace): Lock {
  return JSON.parse(ws.read('pipeline.lock')) as Lock;
}

describe('a command line as cmd', () => {
  it('python3 reads PIPE_OUTS and a param, sh writes $PIPE_OUT_1; both recorded and then fresh', async () => {
    const ws = await pythonWorkspace();
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(ws.read('out/model dir/model.txt')).toBe('2 alpha\n2 beta\n');
    expect(ws.read('out/shout.txt')).toBe('2 ALPHA\n2 BETA\n');
    // Output streams to the reporter and to the log, as a node script's does.
    expect(r.stdout).toContain('[train] trained on train\n');
    expect(r.stderr).toContain('[shout] shouted\n');
    expect(ws.read('.pipe/logs/train.log')).toBe('trained on train\n');
    expect(ws.read('.pipe/logs/shout.log')).toBe('shouted\n');
    expect(Object.keys(lockOf(ws).stages).sort()).toEqual(['shout', 'train']);
    expect(Object.keys(lockOf(ws).stages.train!.outs)).toEqual(['out/model dir/model.txt']);
    expect((await ws.pipe('status', '--check')).code).toBe(0);

    ws.write('params.yaml', 'train:\n  repeat: 3\n');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/shout.txt')).toBe('3 ALPHA\n3 BETA\n');
  });

  it('editing a declared script dep makes the stage stale; so does editing the command line', async () => {
    const ws = await pythonWorkspace();
    expect((await ws.pipe('build')).code).toBe(0);
    ws.write('train.py', `${TRAIN_PY}# a comment changes no output, but the code changed\n`);
    const status = await ws.pipe('status');
    expect(status.stdout).toBe(
      'train: stale\n  dep modified: train.py\nshout: stale\n  upstream stale: train\n2 of 2 stages stale; run `npx pipe build`\n',
    );
    const rebuilt = await ws.pipe('build');
    expect(rebuilt.stdout).toContain('train: running (dep modified: train.py)\n');
    // A comment changes no byte of the out: the stage below stays fresh (early cutoff).
    expect(rebuilt.stdout).toContain('shout: fresh\n');
    expect((await ws.pipe('status', '--check')).code).toBe(0);

    // Only the a's upper-cased now: the command text is part of the stage's definition.
    ws.write('pipeline.yaml', PIPELINE.replace('tr a-z A-Z', 'tr a A'));
    expect((await ws.pipe('status')).stdout).toBe(
      'train: fresh\nshout: stale\n  stage definition changed in pipeline.yaml\n1 of 2 stages stale; run `npx pipe build`\n',
    );
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/shout.txt')).toBe('2 AlphA\n2 betA\n');
  });

  it('config layers and a declared env input reach the command line; changing it makes it stale', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:
  greet:
    cmd: printf '%s %s\\n' "$GREETING" "$OTHER" > "$PIPE_OUT_1"
    outs: [out/greet.txt]
    env: [GREETING]
`,
      'config/.env.base': 'GREETING=hello\nOTHER=from-base\n',
    });
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/greet.txt')).toBe('hello from-base\n');
    ws.write('config/.env.local', 'GREETING=hi\n'); // .env.local overrides .env.base
    expect((await ws.pipe('status')).stdout).toContain('greet: stale\n  env changed: GREETING\n');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/greet.txt')).toBe('hi from-base\n');
  });

  it('an out path with spaces, quotes and a dollar reaches the command intact', async () => {
    const out = `out/it's a "$HOME" dir/x.txt`;
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:\n  q:\n    cmd: sh -c 'printf "%s" "$PIPE_OUT_1" > "$PIPE_OUT_1"'\n    outs: ['${out.replaceAll("'", "''")}']\n`,
    });
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    // The file is where the out says, and holds the temp path it was given: same tail, unsplit.
    const written = ws.read(out);
    expect(written.endsWith(`/outs/${out}`)).toBe(true);
    expect(written).toContain(`${ws.root}/.pipe/tmp/q-`);
  });

  it('a failing command: exit code and stderr tail named, old out kept, stale, lock untouched', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:
  up:
    cmd: sh -c 'cp data/in.txt "$PIPE_OUT_1"; if grep -q bad data/in.txt; then echo "line 1 is bad" >&2; exit 7; fi'
    deps: [data/in.txt]
    outs: [out/up.txt]
`,
      'data/in.txt': 'good\n',
    });
    expect((await ws.pipe('build')).code).toBe(0);
    const lockV1 = ws.read('pipeline.lock');
    ws.write('data/in.txt', 'bad\n');
    const r = await ws.pipe('build');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('up: FAILED: exited with code 7\n  full log: .pipe/logs/up.log\n');
    // The command wrote its temp out before failing; none of it reached the workspace.
    expect(ws.read('out/up.txt')).toBe('good\n');
    expect(ws.read('pipeline.lock')).toBe(lockV1);
    expect((await ws.pipe('status')).stdout).toBe(
      'up: stale\n  dep modified: data/in.txt\n1 of 1 stages stale; run `npx pipe build`\n',
    );
  });

  it('a program that is not installed: a warning before, exit 127 and the shell message after', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': 'stages:\n  t:\n    cmd: no-such-tool-4a1c --fast\n    outs: [out/t.txt]\n',
    });
    const r = await ws.pipe('build');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'pipeline.yaml:3:10: warning: the cmd of stage "t" runs "no-such-tool-4a1c", which is not on PATH\n',
    );
    expect(r.stderr).toContain(
      't: FAILED: exited with code 127: the shell found no such command (its message is in the output above)\n',
    );
    expect(r.stderr).toMatch(/^\[t\] .*no-such-tool-4a1c: command not found\n/m);
    expect(ws.exists('pipeline.lock')).toBe(false);
  });
});

/** Alive and not a zombie: a killed grandchild may wait a moment for init to reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && running(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !running(pid);
}

describe('stopping a build that runs a command line', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} kills the command and the job it started in the background`, async () => {
      const ws = await tempWorkspace({
        'pipeline.yaml': `stages:
  hang:
    cmd: sh -c 'sleep 300 & echo "JOB pid=$!"; echo "SHELL pid=$$"; wait'
    outs: [out/hang.txt]
`,
      });
      const run = ws.start(['build']);
      await run.waitFor(/JOB pid=\d+[\s\S]*SHELL pid=\d+/);
      const job = Number(/JOB pid=(\d+)/.exec(run.output())![1]);
      const shell = Number(/SHELL pid=(\d+)/.exec(run.output())![1]);
      expect([running(job), running(shell)]).toEqual([true, true]);
      run.child.kill(signal);
      const r = await run.done;
      expect(r.code).toBe(130);
      expect(r.stderr).toContain('hang: interrupted; nothing recorded\n');
      expect(await gone(shell)).toBe(true);
      expect(await gone(job)).toBe(true);
      expect(ws.exists('pipeline.lock')).toBe(false);
    });
  }
});
