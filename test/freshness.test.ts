// Freshness through the real CLI: what re-runs after which change, and what does not.
//
//   data/in.txt ──▶ norm ──▶ out/norm.txt ──▶ count ──▶ out/count.txt
//   data/words/ ──▶ words ──▶ out/words.txt                 (independent of norm/count)
//
// norm lower-cases its input, so "Hello" and "HELLO" give the same out: that proves early cutoff.
import { lutimesSync, symlinkSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const PIPELINE = `stages:
  norm:
    cmd: stages/norm.mjs
    deps: [data/in.txt]
    outs: [out/norm.txt]
    params: [norm.suffix]
    env: [NORM_MODE]
  count:
    cmd: stages/count.mjs
    deps: [out/norm.txt]
    outs: [out/count.txt]
  words:
    cmd: stages/words.mjs
    deps: [data/words]
    outs: [out/words.txt]
`;

const FILES = {
  'pipeline.yaml': PIPELINE,
  'params.yaml': 'norm:\n  suffix: "."\n',
  'data/in.txt': 'Hello\n',
  'data/words/a.txt': 'alpha\n',
  'data/words/b.txt': 'beta\n',
  'stages/norm.mjs': stage`
    const text = fs.readFileSync('data/in.txt', 'utf8').trim().toLowerCase();
    fs.writeFileSync(out('out/norm.txt'), text + param('norm.suffix') + '\\n');`,
  'stages/count.mjs': stage`
    const text = fs.readFileSync('out/norm.txt', 'utf8');
    fs.writeFileSync(out('out/count.txt'), String(text.length) + '\\n');`,
  'stages/words.mjs': stage`
    const dir = 'data/words';
    const names = fs.readdirSync(dir).sort();
    fs.writeFileSync(out('out/words.txt'), names.map((n) => fs.readFileSync(path.join(dir, n), 'utf8').trim()).join(' ') + '\\n');`,
};

async function built(): Promise<TempWorkspace> {
  const ws = await tempWorkspace(FILES);
  const first = await ws.pipe('build', '-j', '1');
  expect(first.code).toBe(0);
  expect(ws.runs().sort()).toEqual(['count', 'norm', 'words']);
  ws.clearRuns();
  return ws;
}

describe('pipe build freshness', () => {
  it('a no-op build runs nothing', async () => {
    const ws = await built();
    const lockBefore = ws.read('pipeline.lock');
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(ws.runs()).toEqual([]);
    expect(r.stdout).toContain('build finished: 0 ran, 3 fresh');
    expect(ws.read('pipeline.lock')).toBe(lockBefore);
  });

  it('touching a dep without changing its content re-runs nothing (make would)', async () => {
    const ws = await built();
    ws.age('data/in.txt', -5); // mtime 5 s in the future: newer than every out
    ws.age('data/words/a.txt', -5);
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(ws.runs()).toEqual([]);
  });

  it('a content change re-runs exactly the stages whose inputs changed', async () => {
    const ws = await built();
    ws.write('data/in.txt', 'Goodbye\n');
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(ws.runs()).toEqual(['norm', 'count']);
    expect(ws.read('out/norm.txt')).toBe('goodbye.\n');
    expect(ws.read('out/count.txt')).toBe('9\n'); // "goodbye.\n" is 9 characters
  });

  it('early cutoff: a re-run stage whose outs are unchanged leaves the stages below fresh', async () => {
    const ws = await built();
    ws.write('data/in.txt', 'HELLO\n'); // lower-cases to the same "hello."
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(ws.runs()).toEqual(['norm']);
    expect(r.stdout).toContain('norm: done in');
    expect(r.stdout).toContain('(outs unchanged: stages below stay fresh)');
    expect(r.stdout).toContain('count: fresh');
  });

  it('a param change re-runs the stage that reads it', async () => {
    const ws = await built();
    ws.write('params.yaml', 'norm:\n  suffix: "!"\n');
    const status = await ws.pipe('status', 'norm');
    expect(status.stdout).toBe(
      'norm: stale\n  param changed: norm.suffix "." -> "!"\n1 of 1 stages stale; run `npx pipe build`\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['norm', 'count']);
    expect(ws.read('out/norm.txt')).toBe('hello!\n');
  });

  it('an env input change re-runs the stage, and the lock holds only a hash of the value', async () => {
    const ws = await built();
    const status = await ws.pipeWith({ env: { NORM_MODE: 's3cret-value' } }, 'status', 'norm');
    expect(status.stdout).toContain('norm: stale\n  env changed: NORM_MODE\n');
    await ws.pipeWith({ env: { NORM_MODE: 's3cret-value' } }, 'build');
    expect(ws.runs()).toEqual(['norm']); // its out is unchanged, so count stays fresh
    expect(ws.read('pipeline.lock')).not.toContain('s3cret-value');
    await ws.pipeWith({ env: { NORM_MODE: 's3cret-value' } }, 'build');
    expect(ws.runs()).toEqual(['norm']);
  });

  it('a cmd change and a change to the SQL beside it each re-run the stage', async () => {
    const ws = await built();
    ws.write('stages/count.mjs', `${FILES['stages/count.mjs']}// a comment is a change too\n`);
    expect((await ws.pipe('status', 'count')).stdout).toContain(
      'count: stale\n  code changed: stages/count.mjs\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['count']);
    ws.clearRuns();

    ws.write('stages/count.sql', 'select 1;\n'); // new SQL beside the script
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['count']);
    ws.clearRuns();
    ws.write('stages/count.sql', 'select 2;\n');
    expect((await ws.pipe('status', 'count')).stdout).toContain(
      '  code changed: stages/count.sql\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['count']);
  });

  it('an out deleted or edited by hand is stale and rebuilt', async () => {
    const ws = await built();
    ws.remove('out/count.txt');
    expect((await ws.pipe('status', 'count')).stdout).toContain(
      'count: stale\n  out missing: out/count.txt\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['count']);
    expect(ws.read('out/count.txt')).toBe('7\n'); // "hello.\n"
    ws.clearRuns();

    ws.write('out/norm.txt', 'edited by hand\n');
    const status = await ws.pipe('status');
    expect(status.stdout).toContain('norm: stale\n  out modified by hand: out/norm.txt\n');
    const rebuilt = await ws.pipe('build');
    expect(ws.read('out/norm.txt')).toBe('hello.\n');
    // norm's restored out is byte-identical to what count was built from: count stays fresh.
    expect(ws.runs()).toEqual(['norm']);
    expect(rebuilt.stdout).toContain('count: fresh');
  });

  it('a file added to a dep folder is named and re-runs the stage', async () => {
    const ws = await built();
    ws.write('data/words/c.txt', 'gamma\n');
    const status = await ws.pipe('status', 'words');
    expect(status.stdout).toContain(
      'words: stale\n  dep file added: data/words/c.txt in data/words\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['words']);
    expect(ws.read('out/words.txt')).toBe('alpha beta gamma\n');
  });

  it('--dry-run prints the plan and why, and runs nothing', async () => {
    const ws = await built();
    const lockBefore = ws.read('pipeline.lock');
    ws.write('data/in.txt', 'Other\n');
    const r = await ws.pipe('build', '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'norm: would run (dep modified: data/in.txt)\n' +
        'count: would run (upstream stale: norm)\n' +
        'words: fresh\n',
    );
    expect(ws.runs()).toEqual([]);
    expect(ws.read('pipeline.lock')).toBe(lockBefore);
    expect(ws.read('out/norm.txt')).toBe('hello.\n');
  });

  it('--force and --force-stage run fresh stages', async () => {
    const ws = await built();
    await ws.pipe('build', '--force-stage', 'words');
    expect(ws.runs()).toEqual(['words']);
    ws.clearRuns();
    await ws.pipe('build', '--force', '-j', '1', 'count');
    expect(ws.runs()).toEqual(['norm', 'count']); // count and its ancestors only
  });
});

describe('symlinked deps', () => {
  it('are judged by their target: editing the target re-runs the stage', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml':
        'stages:\n  copy:\n    cmd: stages/copy.mjs\n    deps: [data/current.txt]\n    outs: [out/copy.txt]\n',
      'data/v1.txt': 'one\n',
      'stages/copy.mjs': stage`fs.writeFileSync(out('out/copy.txt'), fs.readFileSync('data/current.txt'));`,
    });
    symlinkSync('v1.txt', ws.path('data/current.txt'));
    // Both old enough for the state cache to trust: only the target's new stamp can reveal the edit.
    ws.age('data/v1.txt', 60);
    const old = Date.now() / 1000 - 60;
    lutimesSync(ws.path('data/current.txt'), old, old);
    await ws.pipe('build');
    ws.write('data/v1.txt', 'uno\n');
    expect((await ws.pipe('status')).stdout).toContain(
      'copy: stale\n  dep modified: data/current.txt\n',
    );
    await ws.pipe('build');
    expect(ws.read('out/copy.txt')).toBe('uno\n');
    expect(ws.runs()).toEqual(['copy', 'copy']);
  });
});

describe('config layers reach the stage', () => {
  it('config/.env.base and .env.local keys are in the stage env; a declared env input follows them', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml':
        'stages:\n  greet:\n    cmd: stages/greet.mjs\n    outs: [out/greet.txt]\n    env: [GREETING]\n',
      'config/.env.base': 'GREETING=hello\nOTHER=from-base\n',
      'stages/greet.mjs': stage`fs.writeFileSync(out('out/greet.txt'), process.env.GREETING + ' ' + process.env.OTHER + '\\n');`,
    });
    await ws.pipe('build');
    expect(ws.read('out/greet.txt')).toBe('hello from-base\n');
    ws.write('config/.env.local', 'GREETING=hi\n'); // .env.local overrides .env.base
    expect((await ws.pipe('status')).stdout).toContain('greet: stale\n  env changed: GREETING\n');
    await ws.pipe('build');
    expect(ws.read('out/greet.txt')).toBe('hi from-base\n');
    await ws.pipeWith({ env: { GREETING: 'hey' } }, 'build'); // the process environment wins
    expect(ws.read('out/greet.txt')).toBe('hey from-base\n');
    expect(ws.runs()).toEqual(['greet', 'greet', 'greet']);
  });
});

describe('--log-format json', () => {
  it('prints one JSON event per line: start with reasons, prefixed output, done, summary', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': 'stages:\n  hello:\n    cmd: stages/hello.mjs\n    outs: [out/hello.txt]\n',
      'stages/hello.mjs': stage`
        console.log('hello from the stage');
        fs.writeFileSync(out('out/hello.txt'), 'hi\\n');`,
    });
    const r = await ws.pipe('build', '--log-format', 'json');
    expect(r.code).toBe(0);
    const events = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT/);
    const strip = events.map(({ time: _t, durationMs: _d, ...rest }) => rest);
    expect(strip).toEqual([
      { type: 'stage-start', stage: 'hello', reasons: [{ kind: 'never-built' }] },
      { type: 'stage-output', stage: 'hello', stream: 'stdout', line: 'hello from the stage' },
      { type: 'stage-done', stage: 'hello', unchanged: false },
      { type: 'summary', ran: 1, pulled: 0, fresh: 0, failed: [], skipped: 0, interrupted: false },
    ]);
    expect(ws.read('.pipe/logs/hello.log')).toBe('hello from the stage\n');
  });
});

describe('glob deps', () => {
  it('re-run when a matching file is added, not when a non-matching one is', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:
  merge:
    cmd: stages/merge.mjs
    deps: ['data/**/*.csv']
    outs: [out/merged.csv]
`,
      'data/x/1.csv': 'a,1\n',
      'stages/merge.mjs': stage`
        const files = (await glob('data/**/*.csv')).sort();
        fs.writeFileSync(out('out/merged.csv'), files.map((f) => fs.readFileSync(f, 'utf8')).join(''));`.replace(
        "import { fs, path } from 'zx';",
        "import { fs, path, glob } from 'zx';",
      ),
    });
    expect((await ws.pipe('build')).code).toBe(0);
    ws.clearRuns();
    ws.write('data/y/notes.txt', 'not a csv\n');
    await ws.pipe('build');
    expect(ws.runs()).toEqual([]);
    ws.write('data/y/2.csv', 'b,2\n');
    expect((await ws.pipe('status')).stdout).toContain(
      'merge: stale\n  dep file added: data/y/2.csv in data/**/*.csv\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['merge']);
    expect(ws.read('out/merged.csv')).toBe('a,1\nb,2\n');
  });
});
