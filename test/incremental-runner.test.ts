// The runner's side of incremental stages (docs/stage-contract.md, "Incremental stages"): an
// `incremental: true` stage is told exactly which dep files were added, modified and deleted,
// and finds its previous outputs in its temp out paths, only when nothing but its deps' files
// changed; everything else runs it from scratch. The stage here writes `out/<name>.len` (the
// file's length) per input file: the expected folder is computed in the test from the inputs.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGE_PRELUDE, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const LENGTHS = `${STAGE_PRELUDE}
const dir = out('out');
const inc = process.env.PIPE_INCREMENTAL ? JSON.parse(fs.readFileSync(process.env.PIPE_INCREMENTAL, 'utf8')) : null;
const lengthOf = (f) => fs.writeFileSync(path.join(dir, path.basename(f) + '.len.tmp'), String(fs.readFileSync(f).length + Number(param('scale'))));
const put = (f) => { lengthOf(f); fs.renameSync(path.join(dir, path.basename(f) + '.len.tmp'), path.join(dir, path.basename(f) + '.len')); };
if (inc === null) {
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync('in').sort()) put(path.join('in', f));
  mark('full');
} else {
  const c = inc.deps['in'];
  for (const f of c.deleted) fs.rmSync(path.join(dir, path.basename(f) + '.len'));
  for (const f of [...c.added, ...c.modified]) put(f);
  mark('incremental ' + JSON.stringify(c));
  if (fs.existsSync('in/FAIL')) process.exit(1);
}
`;

const PIPELINE = `stages:
  lengths:
    cmd: stages/lengths.mjs
    deps: [in]
    params: [scale]
    outs: [out]
    incremental: true
`;

async function lengthsWorkspace(): Promise<TempWorkspace> {
  return tempWorkspace({
    'pipeline.yaml': PIPELINE,
    'params.yaml': 'scale: 0\n',
    'stages/lengths.mjs': LENGTHS,
    'in/a.txt': 'a',
    'in/b.txt': 'bb',
    'in/c.txt': 'ccc',
  });
}

/** The out folder a from-scratch run must write: computed here from the inputs. */
function expectedOut(ws: TempWorkspace, scale: number): Record<string, string> {
  const files = readdirSync(ws.path('in')).sort();
  return Object.fromEntries(
    files.map((f) => [`${f}.len`, String(readFileSync(ws.path(join('in', f))).length + scale)]),
  );
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The lock's entry for out/ is the manifest hash, size and count of its files as they are. */
function expectLockedOut(ws: TempWorkspace): void {
  const files = Object.entries(outFolder(ws));
  const manifest = files
    .map(([name, text]) => `${name}\t${sha256(text)}\t${Buffer.byteLength(text)}\n`)
    .join('');
  const lock = JSON.parse(ws.read('pipeline.lock')) as {
    stages: Record<string, { outs: Record<string, unknown> }>;
  };
  expect(lock.stages.lengths!.outs.out).toEqual({
    sha256: sha256(manifest),
    size: files.reduce((n, [, text]) => n + Buffer.byteLength(text), 0),
    files: files.length,
  });
}

function outFolder(ws: TempWorkspace): Record<string, string> {
  const files = readdirSync(ws.path('out')).sort();
  return Object.fromEntries(files.map((f) => [f, ws.read(join('out', f))]));
}

describe('incremental stages: the runner', () => {
  it('tells the stage exactly which dep files changed, and it updates its previous outputs', async () => {
    const ws = await lengthsWorkspace();
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs()).toEqual(['lengths full']);
    ws.write('in/d.txt', 'dddd');
    ws.write('in/b.txt', 'bbbbb');
    ws.remove('in/a.txt');
    const r = await ws.pipe('build');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lengths: running incrementally');
    expect(ws.runs().at(-1)).toBe(
      `lengths incremental ${JSON.stringify({ added: ['in/d.txt'], modified: ['in/b.txt'], deleted: ['in/a.txt'] })}`,
    );
    expect(outFolder(ws)).toEqual(expectedOut(ws, 0));
    expect((await ws.pipe('status')).code).toBe(0);
  });

  it('runs from scratch when a param, the command, an out or --force says so', async () => {
    const ws = await lengthsWorkspace();
    expect((await ws.pipe('build')).code).toBe(0);
    ws.write('params.yaml', 'scale: 10\n');
    ws.write('in/e.txt', 'e');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().at(-1)).toBe('lengths full');
    expect(outFolder(ws)).toEqual(expectedOut(ws, 10));

    // A command line's text is not one of the per-field reasons; with a dep change beside it,
    // only the fingerprint shows that the stage is not the one that wrote the outputs.
    const commandLine = PIPELINE.replace(
      'cmd: stages/lengths.mjs\n    deps: [in]',
      'cmd: node stages/lengths.mjs\n    deps: [in, stages/lengths.mjs]',
    );
    ws.write('pipeline.yaml', commandLine);
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().at(-1)).toBe('lengths full');
    ws.write('pipeline.yaml', commandLine.replace('lengths.mjs\n', 'lengths.mjs --v2\n'));
    ws.write('in/f.txt', 'ff');
    const changed = await ws.pipe('build');
    expect(changed.stdout).toContain('lengths: running (dep file added: in/f.txt in in)');
    expect(ws.runs().at(-1)).toBe('lengths full');

    ws.write('out/b.txt.len', 'tampered');
    ws.write('in/g.txt', 'g');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().at(-1)).toBe('lengths full');
    expect(outFolder(ws)).toEqual(expectedOut(ws, 10));

    ws.write('in/h.txt', 'h');
    expect((await ws.pipe('build', '--force')).code).toBe(0);
    expect(ws.runs().at(-1)).toBe('lengths full');
  });

  it('a failed incremental run leaves the previous outputs and lock entry as they were', async () => {
    const ws = await lengthsWorkspace();
    expect((await ws.pipe('build')).code).toBe(0);
    const outBefore = outFolder(ws);
    const lockBefore = ws.read('pipeline.lock');
    ws.remove('in/b.txt');
    ws.write('in/c.txt', 'changed');
    ws.write('in/FAIL', '');
    const r = await ws.pipe('build');
    expect(r.code).not.toBe(0);
    expect(ws.runs().at(-1)).toMatch(/^lengths incremental /);
    expect(outFolder(ws)).toEqual(outBefore);
    expect(ws.read('pipeline.lock')).toBe(lockBefore);
    ws.remove('in/FAIL');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(outFolder(ws)).toEqual(expectedOut(ws, 0));
  });

  it('a stage without incremental: true never gets PIPE_INCREMENTAL', async () => {
    const ws = await lengthsWorkspace();
    ws.write('pipeline.yaml', PIPELINE.replace('    incremental: true\n', ''));
    expect((await ws.pipe('build')).code).toBe(0);
    ws.write('in/d.txt', 'dddd');
    // Not even one inherited from pipe's own environment.
    expect((await ws.pipeWith({ env: { PIPE_INCREMENTAL: '/nonexistent' } }, 'build')).code).toBe(
      0,
    );
    expect(ws.runs()).toEqual(['lengths full', 'lengths full']);
  });
});

// `incremental: changes`: the temp out starts empty, the stage writes only new and changed files
// there and names the ones to remove in PIPE_REMOVALS; the runner applies both to the real out.
const CHANGES = `${STAGE_PRELUDE}
const dir = out('out');
const inc = process.env.PIPE_INCREMENTAL ? JSON.parse(fs.readFileSync(process.env.PIPE_INCREMENTAL, 'utf8')) : null;
const put = (f) => fs.writeFileSync(path.join(dir, path.basename(f) + '.len'), String(fs.readFileSync(f).length));
if (inc === null) {
  fs.mkdirSync(dir);
  for (const f of fs.readdirSync('in').sort()) put(path.join('in', f));
  mark('full');
} else {
  const c = inc.deps['in'];
  mark('changes ' + inc.outs + ' temp out holds ' + JSON.stringify(fs.readdirSync(dir)));
  for (const f of [...c.added, ...c.modified]) put(f);
  const removals = c.deleted.map((f) => path.basename(f) + '.len');
  if (fs.existsSync('in/ESCAPE')) removals.push('../pipeline.yaml');
  fs.writeFileSync(process.env.PIPE_REMOVALS, JSON.stringify({ out: removals }));
  if (fs.existsSync('in/FAIL')) process.exit(1);
}
`;

async function changesWorkspace(): Promise<TempWorkspace> {
  return tempWorkspace({
    'pipeline.yaml': PIPELINE.replace('incremental: true', 'incremental: changes'),
    'params.yaml': 'scale: 0\n',
    'stages/lengths.mjs': CHANGES,
    'in/a.txt': 'a',
    'in/b.txt': 'bb',
    'in/c.txt': 'ccc',
  });
}

describe('incremental: changes: only new and changed files are written, removals listed', () => {
  it('applies what the stage wrote and removed; unchanged outputs are not touched', async () => {
    const ws = await changesWorkspace();
    expect((await ws.pipe('build')).code).toBe(0);
    const untouched = statSync(ws.path('out/c.txt.len')).ino;
    ws.write('in/d.txt', 'dddd');
    ws.write('in/b.txt', 'bbbbb');
    ws.remove('in/a.txt');
    const r = await ws.pipe('build');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('lengths: running incrementally');
    // The previous outputs were not linked in: the stage found its temp out empty.
    expect(ws.runs().at(-1)).toBe('lengths changes changes temp out holds []');
    expect(outFolder(ws)).toEqual(expectedOut(ws, 0));
    expect(statSync(ws.path('out/c.txt.len')).ino).toBe(untouched);
    // The lock records the out the runner made from its previous list and the applied changes,
    // without walking it: as computed here from the files themselves, and status agrees.
    expectLockedOut(ws);
    expect((await ws.pipe('status', '--check')).code).toBe(0);
  });

  it('records the same out when a name is not ASCII (the list is merged, not the bytes spliced)', async () => {
    const ws = await changesWorkspace();
    ws.write('in/é.txt', 'é');
    expect((await ws.pipe('build')).code).toBe(0);
    ws.write('in/d.txt', 'dddd');
    ws.remove('in/a.txt');
    const r = await ws.pipe('build');
    expect(r.stdout).toContain('lengths: running incrementally');
    expect(outFolder(ws)).toEqual(expectedOut(ws, 0));
    expectLockedOut(ws);
    expect((await ws.pipe('status', '--check')).code).toBe(0);
  });

  it('a failed run, or removals outside the out, leave the previous outputs and lock entry', async () => {
    const ws = await changesWorkspace();
    expect((await ws.pipe('build')).code).toBe(0);
    const outBefore = outFolder(ws);
    const lockBefore = ws.read('pipeline.lock');
    ws.remove('in/b.txt');
    ws.write('in/c.txt', 'changed');
    ws.write('in/FAIL', '');
    expect((await ws.pipe('build')).code).not.toBe(0);
    expect(ws.runs().at(-1)).toMatch(/^lengths changes /);
    expect(outFolder(ws)).toEqual(outBefore);
    expect(ws.read('pipeline.lock')).toBe(lockBefore);

    ws.remove('in/FAIL');
    ws.write('in/ESCAPE', '');
    const escaped = await ws.pipe('build');
    expect(escaped.code).not.toBe(0);
    expect(escaped.stderr).toContain(
      'PIPE_REMOVALS: "../pipeline.yaml" under out is not a plain relative path',
    );
    expect(outFolder(ws)).toEqual(outBefore);
    expect(ws.read('pipeline.lock')).toBe(lockBefore);

    ws.remove('in/ESCAPE');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(outFolder(ws)).toEqual(expectedOut(ws, 0));
  });
});
