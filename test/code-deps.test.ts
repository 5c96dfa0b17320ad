// Code deps found by the runner, through the real CLI in small workspaces: a stage's fingerprint
// covers every local file its script reaches (static and dynamic imports, `.js` -> `.ts`,
// `new URL('...', import.meta.url)` files and what those import), the SQL beside it, and the
// installed version of each package it imports; a command line has no code deps.
//
//   stages/a.mjs ─import─▶ lib/helper.js ─import()─▶ lib/late.mjs
//                ─new URL─▶ lib/worker.mjs ─import─▶ lib/worker-dep.mjs
//                ─new URL─▶ sql/query.sql
//                ─import─▶ fakepkg (stages/node_modules/fakepkg, version 1.0.0)
//   stages/t.ts  ─import './util.js'─▶ stages/util.ts (TypeScript's .js -> .ts, under tsx)
//                ─import─▶ lib/plain.js ─import './typed.js'─▶ lib/typed.ts (no typed.js)
// a.mjs runs under plain node (stage-process.ts), t.ts under tsx: their imports resolve apart.
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

interface StatusDoc {
  stages: { name: string; state: string; reasons: Record<string, unknown>[] }[];
}

const PIPELINE = `stages:
  up:
    cmd: stages/up.mjs
    outs: [out/up.txt]
  a:
    cmd: stages/a.mjs
    deps: [out/up.txt]
    outs: [out/a.txt]
  t:
    cmd: stages/t.ts
    outs: [out/t.txt]
`;

const FILES = {
  'pipeline.yaml': PIPELINE,
  // ES modules, as the repository's stages are (tsx resolves CommonJS differently).
  'package.json': '{ "type": "module" }\n',
  'stages/up.mjs': stage`fs.writeFileSync(out('out/up.txt'), 'up\\n');`,
  'stages/a.mjs': stage`
    import { helper } from '../lib/helper.js';
    import version from 'fakepkg';
    // import { never } from './commented-out.mjs';
    const sql = fs.readFileSync(new URL('../sql/query.sql', import.meta.url), 'utf8');
    const worker = new URL('../lib/worker.mjs', import.meta.url);
    fs.writeFileSync(out('out/a.txt'), [await helper(), sql.trim(), version, worker.pathname.length > 0].join(' ') + '\\n');`,
  'lib/helper.js': `export async function helper() {\n  return (await import('./late.mjs')).late;\n}\n`,
  'lib/late.mjs': `export const late = 'late';\n`,
  'lib/worker.mjs': `import { dep } from './worker-dep.mjs';\nexport const w = dep;\n`,
  'lib/worker-dep.mjs': `export const dep = 1;\n`,
  'sql/query.sql': 'select 1;\n',
  'stages/node_modules/fakepkg/package.json':
    '{ "name": "fakepkg", "version": "1.0.0", "type": "module", "main": "index.js" }\n',
  'stages/node_modules/fakepkg/index.js': `export default 'fake';\n`,
  'stages/t.ts': stage`
    import { twice } from './util.js';
    import { plain } from '../lib/plain.js';
    fs.writeFileSync(out('out/t.txt'), String(twice(2) + plain) + '\\n');`,
  'stages/util.ts': `export const twice = (n: number): number => n * 2;\n`,
  'lib/plain.js': `import { typed } from './typed.js';\nexport const plain = typed;\n`,
  'lib/typed.ts': 'export const typed: number = 1;\n',
};

async function built(): Promise<TempWorkspace> {
  const ws = await tempWorkspace(FILES);
  const first = await ws.pipe('build', '-j', '1');
  expect(first.code, first.stderr).toBe(0);
  expect(ws.runs().sort()).toEqual(['a', 't', 'up']);
  ws.clearRuns();
  return ws;
}

async function statusOf(ws: TempWorkspace): Promise<Map<string, Record<string, unknown>[]>> {
  const r = await ws.pipe('status', '--json');
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as StatusDoc;
  return new Map(doc.stages.map((s) => [s.name, s.reasons]));
}

describe('code deps found by the runner', () => {
  it('records the closure and the package versions in the lock entry', async () => {
    const ws = await built();
    const lock = JSON.parse(ws.read('pipeline.lock')) as {
      stages: Record<string, { cmd: Record<string, string>; packages: Record<string, string> }>;
    };
    expect(Object.keys(lock.stages.a!.cmd).sort()).toEqual([
      'lib/helper.js',
      'lib/late.mjs',
      'lib/worker-dep.mjs',
      'lib/worker.mjs',
      'sql/query.sql',
      'stages/a.mjs',
    ]);
    // zx from the test prelude resolves to the repository's node_modules (symlinked).
    const zx = JSON.parse(ws.read('node_modules/zx/package.json')) as { version: string };
    expect(lock.stages.a!.packages).toEqual({ fakepkg: '1.0.0', zx: zx.version });
    expect(Object.keys(lock.stages.t!.cmd).sort()).toEqual([
      'lib/plain.js',
      'lib/typed.ts',
      'stages/t.ts',
      'stages/util.ts',
    ]);
    expect(ws.read('out/t.txt')).toBe('5\n');
    expect(ws.read('out/a.txt')).toBe('late select 1; fake true\n');
  });

  it('a comment in any file of the closure makes only that stage stale, naming the file', async () => {
    const ws = await built();
    for (const file of [
      'lib/helper.js',
      'lib/late.mjs',
      'lib/worker.mjs',
      'lib/worker-dep.mjs',
      'stages/a.mjs',
    ]) {
      const before = ws.read(file);
      ws.write(file, `${before}// a comment\n`);
      const reasons = await statusOf(ws);
      expect(reasons.get('a'), file).toEqual([{ kind: 'code-changed', path: file }]);
      expect(reasons.get('up'), file).toEqual([]);
      expect(reasons.get('t'), file).toEqual([]);
      ws.write(file, before);
    }
    ws.write('sql/query.sql', 'select 1; -- a comment\n');
    expect((await statusOf(ws)).get('a')).toEqual([
      { kind: 'code-changed', path: 'sql/query.sql' },
    ]);
    ws.write('stages/util.ts', `${FILES['stages/util.ts']}// a comment\n`);
    const text = await ws.pipe('status', 't');
    expect(text.stdout).toBe(
      't: stale\n  code changed: stages/util.ts\n1 of 1 stages stale; run `npx pipe build`\n',
    );
    await ws.pipe('build');
    expect(ws.runs().sort()).toEqual(['a', 't']);
  });

  it('a commented-out import is not code, and a new import is followed at once', async () => {
    const ws = await built();
    ws.write('stages/commented-out.mjs', 'export const never = 1;\n');
    expect((await statusOf(ws)).get('a')).toEqual([]);
    ws.write('lib/late.mjs', `import './added.mjs';\nexport const late = 'late';\n`);
    ws.write('lib/added.mjs', 'export {};\n');
    expect((await statusOf(ws)).get('a')).toEqual([
      { kind: 'code-changed', path: 'lib/added.mjs' },
      { kind: 'code-changed', path: 'lib/late.mjs' },
    ]);
    await ws.pipe('build');
    ws.write('lib/added.mjs', 'export {}; // now part of the closure\n');
    expect((await statusOf(ws)).get('a')).toEqual([
      { kind: 'code-changed', path: 'lib/added.mjs' },
    ]);
  });

  it('an import lands where tsx loads it from: the .ts first from TypeScript, the .js from JavaScript', async () => {
    const ws = await built();
    // stages/t.ts imports './util.js': tsx loads util.ts even with a util.js beside it.
    ws.write('stages/util.js', 'export const twice = (n) => n * 2;\n');
    expect((await statusOf(ws)).get('t')).toEqual([]);
    // Without util.ts, the same import loads util.js.
    ws.remove('stages/util.ts');
    expect((await statusOf(ws)).get('t')).toEqual([
      { kind: 'code-changed', path: 'stages/util.js' },
      { kind: 'code-changed', path: 'stages/util.ts' },
    ]);
    // lib/plain.js imports './typed.js', which was lib/typed.ts: a typed.js appearing now wins.
    ws.write('lib/typed.js', 'export const typed = 2;\n');
    expect((await statusOf(ws)).get('t')).toEqual([
      { kind: 'code-changed', path: 'lib/typed.js' },
      { kind: 'code-changed', path: 'lib/typed.ts' },
      { kind: 'code-changed', path: 'stages/util.js' },
      { kind: 'code-changed', path: 'stages/util.ts' },
    ]);
    await ws.pipe('build');
    expect(ws.read('out/t.txt')).toBe('6\n'); // twice(2) + typed.js's 2: the files pipe named ran
    expect((await statusOf(ws)).get('t')).toEqual([]);
  });

  it('a package version change makes the importing stage stale, naming the package', async () => {
    const ws = await built();
    const manifest = 'stages/node_modules/fakepkg/package.json';
    ws.write(manifest, ws.read(manifest).replace('"1.0.0"', '"1.0.1"'));
    const reasons = await statusOf(ws);
    expect(reasons.get('a')).toEqual([
      { kind: 'package-changed', name: 'fakepkg', from: '1.0.0', to: '1.0.1' },
    ]);
    expect(reasons.get('up')).toEqual([]);
    expect(reasons.get('t')).toEqual([]);
    expect((await ws.pipe('status', 'a')).stdout).toContain(
      'a: stale\n  package changed: fakepkg 1.0.0 -> 1.0.1\n',
    );
    await ws.pipe('build');
    expect(ws.runs()).toEqual(['a']);
    // Removed: node would now fail to load it; the stage is stale, not silently fresh.
    ws.remove('stages/node_modules/fakepkg');
    expect((await statusOf(ws)).get('a')).toEqual([
      { kind: 'package-changed', name: 'fakepkg', from: '1.0.1' },
    ]);
  });

  it('a command line has no code deps beyond its declared deps', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': 'stages:\n  script:\n    cmd: stages/a.mjs\n    outs: [out/a.txt]\n',
      'stages/a.mjs': `import './b.mjs';\n`,
      'stages/b.mjs': 'export {};\n',
    });
    // In process, on the real workspace: what observeStage hashes as a stage's code. Pipeline
    // validation on this branch still refuses a command line as cmd, so that stage is the
    // script's stage with its cmd rewritten to the command line running the same script.
    const { loadBuildState } = await import('../lib/build/build-state.js');
    const { observeStage } = await import('../lib/build/observe-stage.js');
    const opened = await loadBuildState(ws.root, process.stderr);
    if (!opened.ok) throw new Error(`workspace did not load (exit ${opened.code})`);
    const script = [...opened.value.pipeline.stages.values()][0]!;
    const asScript = await observeStage(opened.value.observe, script);
    expect(Object.keys(asScript.cmd).sort()).toEqual(['stages/a.mjs', 'stages/b.mjs']);
    const commandLine = { ...script, cmd: { ...script.cmd, value: 'node stages/a.mjs' } };
    const asCommandLine = await observeStage(opened.value.observe, commandLine);
    expect(asCommandLine.cmd).toEqual({});
    expect(asCommandLine.packages).toEqual({});
  });
});
