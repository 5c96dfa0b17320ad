// A TypeScript stage runs from its closure compiled to JavaScript (lib/build/compiled-stage.ts),
// through the real `pipe build` in temp workspaces: no tsx loader in the stage process, the same
// outputs as under tsx, an edit runs the new code, files named relative to import.meta.url are
// found beside the source, a stack trace names the .ts line, a damaged tree is never run, and
// anything that cannot be compiled faithfully runs under tsx as before.
//
// Expected values are written out from the inputs the test writes (a greeting and a word list);
// "the same outputs as under tsx" compares against a run the test forces onto tsx (a tsconfig.json
// option that tsx honours and the compiled path refuses).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const PIPELINE = `stages:
  hello:
    cmd: stages/hello.ts
    deps: [data/name.txt]
    outs: [out/hello.json]
`;

/** Imports a .ts module by its .js name, reads a file by a literal and by a computed name. */
const HELLO = `import { readFileSync, writeFileSync } from 'node:fs';
import { greet } from './shared/greet.js';

interface Report { greeting: string; words: string[]; computed: string; dirname: string }
const name: string = readFileSync('data/name.txt', 'utf8').trim();
const words = readFileSync(new URL('./shared/words.txt', import.meta.url), 'utf8').split('\\n');
const which = ['extra', 'txt'].join('.');
const report: Report = {
  greeting: greet(name),
  words: words.filter((w) => w !== ''),
  computed: readFileSync(new URL(which, import.meta.url), 'utf8').trim(),
  dirname: import.meta.dirname,
};
const outs = JSON.parse(process.env.PIPE_OUTS!) as Record<string, string>;
writeFileSync(outs['out/hello.json']!, JSON.stringify(report));
// How the process was started: not part of the out, which must not depend on it.
console.log(JSON.stringify({ execArgv: process.execArgv, argv1: process.argv[1] }));
`;

const GREET = `export function greet(name: string): string {
  return \`hello, \${name}\`;
}
`;

const FILES = {
  'pipeline.yaml': PIPELINE,
  'package.json': '{ "type": "module" }\n',
  'data/name.txt': 'ada\n',
  'stages/hello.ts': HELLO,
  'stages/shared/greet.ts': GREET,
  'stages/shared/words.txt': 'alpha\nbeta\n',
  'stages/extra.txt': 'found by a computed name\n',
};

/** The out the stage writes for name `ada` and the files above, worked out by hand. */
function expectedReport(ws: TempWorkspace, greeting = 'hello, ada') {
  return {
    greeting,
    words: ['alpha', 'beta'],
    computed: 'found by a computed name',
    dirname: join(ws.root, 'stages'),
  };
}

/** The line the stage prints about how it was started. */
function startedWith(stdout: string): { execArgv: string[]; argv1: string } {
  const line = stdout.split('\n').find((l) => l.startsWith('[hello] {'));
  if (line === undefined) throw new Error(`the stage printed no start line:\n${stdout}`);
  return JSON.parse(line.slice('[hello] '.length)) as { execArgv: string[]; argv1: string };
}

const underTsx = (execArgv: readonly string[]) => execArgv.includes('--import');

function trees(ws: TempWorkspace): string[] {
  return ws.exists('.pipe/compiled') ? readdirSync(ws.path('.pipe/compiled')).sort() : [];
}

async function build(ws: TempWorkspace, ...args: string[]) {
  const r = await ws.pipe('build', ...args);
  expect(r.code, r.stderr).toBe(0);
  return r;
}

describe('a TypeScript stage', () => {
  it('runs compiled, without tsx, and writes what it writes under tsx', async () => {
    const ws = await tempWorkspace(FILES);
    const compiled = await build(ws);
    const started = startedWith(compiled.stdout);
    expect(underTsx(started.execArgv)).toBe(false);
    expect(started.execArgv).toEqual(['--enable-source-maps']);
    // As under tsx, process.argv[1] is the script's source path.
    expect(started.argv1).toBe(ws.path('stages/hello.ts'));
    expect(JSON.parse(ws.read('out/hello.json'))).toEqual(expectedReport(ws));
    const compiledOut = ws.read('out/hello.json');
    expect(trees(ws)).toHaveLength(1);

    // The same stage forced onto tsx (experimentalDecorators is an option the compiled path
    // does not reproduce): the same bytes.
    ws.write('tsconfig.json', '{ "compilerOptions": { "experimentalDecorators": true } }\n');
    const tsx = await build(ws, '--force');
    expect(underTsx(startedWith(tsx.stdout).execArgv)).toBe(true);
    expect(startedWith(tsx.stdout).argv1).toBe(ws.path('stages/hello.ts'));
    expect(ws.read('out/hello.json')).toBe(compiledOut);
  });

  it('runs the new code after an imported module is edited, and again after it is edited back', async () => {
    const ws = await tempWorkspace(FILES);
    await build(ws);
    ws.write('stages/shared/greet.ts', GREET.replace('hello, ', 'goodbye, '));
    const edited = await build(ws);
    expect(edited.stdout).toContain('code changed: stages/shared/greet.ts');
    expect(underTsx(startedWith(edited.stdout).execArgv)).toBe(false);
    expect(JSON.parse(ws.read('out/hello.json'))).toEqual(expectedReport(ws, 'goodbye, ada'));
    expect(trees(ws)).toHaveLength(2);
    // Back to the first text: its tree is used again, and the output is the first one.
    ws.write('stages/shared/greet.ts', GREET);
    await build(ws);
    expect(JSON.parse(ws.read('out/hello.json'))).toEqual(expectedReport(ws));
    expect(trees(ws)).toHaveLength(2);
  });

  it("names the .ts file and line in a thrown error's stack", async () => {
    const ws = await tempWorkspace({
      ...FILES,
      // Types and an interface before the throw: the compiled file's lines differ from these.
      'stages/shared/greet.ts': `interface Options {
  loud: boolean;
}
type Name = string;

export function greet(name: Name, options: Options = { loud: false }): string {
  if (name === 'ada') throw new Error(\`no greeting for \${name} (\${options.loud})\`);
  return name;
}
`,
    });
    const r = await ws.pipe('build');
    expect(r.code).toBe(4); // a stage failed
    expect(r.stderr).toContain('no greeting for ada (false)');
    expect(r.stderr).toMatch(/stages\/shared\/greet\.ts:7:\d+/);
    expect(trees(ws)).toHaveLength(1);
  });

  it('never runs a compiled tree that was altered or left half-written: it compiles it again', async () => {
    const ws = await tempWorkspace(FILES);
    await build(ws);
    const [key] = trees(ws);
    const compiledGreet = ws.path(`.pipe/compiled/${key}/stages/shared/greet.js`);
    const good = readFileSync(compiledGreet, 'utf8');
    expect(good).toContain('hello, ');

    // Altered: the compiled file says something else than its source.
    writeFileSync(compiledGreet, good.replace('hello, ', 'TAMPERED, '));
    const altered = await build(ws, '--force');
    expect(underTsx(startedWith(altered.stdout).execArgv)).toBe(false);
    expect(JSON.parse(ws.read('out/hello.json'))).toEqual(expectedReport(ws));
    expect(readFileSync(compiledGreet, 'utf8')).toBe(good);

    // Half-written: a file missing, and the manifest cut short.
    ws.remove(`.pipe/compiled/${key}/stages/shared/greet.js`);
    const manifest = ws.path(`.pipe/compiled/${key}/compiled.json`);
    writeFileSync(manifest, readFileSync(manifest, 'utf8').slice(0, 40));
    await build(ws, '--force');
    expect(JSON.parse(ws.read('out/hello.json'))).toEqual(expectedReport(ws));
    expect(readFileSync(compiledGreet, 'utf8')).toBe(good);
    expect(trees(ws)).toEqual([key]);
  });

  it('runs under tsx, as before, when its code cannot be compiled faithfully or the tree not written', async () => {
    // An extensionless import: tsx resolves it, a compiled tree could not.
    const ws = await tempWorkspace({
      ...FILES,
      'stages/hello.ts': HELLO.replace("'./shared/greet.js'", "'./shared/greet'"),
    });
    const refused = await build(ws);
    expect(underTsx(startedWith(refused.stdout).execArgv)).toBe(true);
    expect(JSON.parse(ws.read('out/hello.json'))).toEqual(expectedReport(ws));
    expect(trees(ws)).toEqual([]);

    // .pipe/compiled cannot be made (a file is in its place): the stage still runs, under tsx.
    const blocked = await tempWorkspace(FILES);
    blocked.write('.pipe/compiled', 'not a folder');
    const r = await build(blocked);
    expect(underTsx(startedWith(r.stdout).execArgv)).toBe(true);
    expect(JSON.parse(blocked.read('out/hello.json'))).toEqual(expectedReport(blocked));
  });

  it('is removed by pipe gc once no lock entry records the code it was compiled from', async () => {
    const ws = await tempWorkspace(FILES);
    await build(ws);
    const [first] = trees(ws);
    ws.write('stages/shared/greet.ts', GREET.replace('hello, ', 'hi, '));
    await build(ws);
    const current = trees(ws).filter((k) => k !== first);
    expect(current).toHaveLength(1);
    const young = JSON.parse((await ws.pipe('gc', '--json')).stdout);
    expect(young.compiled).toEqual({ removed: [], kept: 1, young: 1 });
    const r = await ws.pipe('gc', '--grace', '0m', '--json');
    expect(JSON.parse(r.stdout).compiled).toEqual({
      removed: [`.pipe/compiled/${first}`],
      kept: 1,
      young: 0,
    });
    expect(trees(ws)).toEqual(current);
    // The kept tree is the one the next build uses: nothing is compiled again.
    await build(ws, '--force');
    expect(trees(ws)).toEqual(current);
  });

  it("starts its worker from the worker entry's compiled module (the stage API's compiledWorkerEntry)", async () => {
    // The worker entry has a TypeScript annotation: plain node runs it only compiled. The stage
    // API's module is copied in beside the stage (these workspaces have no lib/).
    const POOL = `import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { compiledWorkerEntry } from './shared/worker-entry.js';

const source = new URL('./shared/square.ts', import.meta.url);
const compiled = compiledWorkerEntry(source);
const outs = JSON.parse(process.env.PIPE_OUTS!) as Record<string, string>;
let squared: number | null = null;
if (compiled !== undefined) {
  const worker = new Worker(compiled, { workerData: 7 });
  squared = await new Promise<number>((resolve, reject) => {
    worker.on('message', resolve);
    worker.on('error', reject);
  });
  await worker.terminate();
}
writeFileSync(outs['out/square.json']!, JSON.stringify({ entry: compiled?.href ?? null, squared }));
`;
    const SQUARE = `import { parentPort, workerData } from 'node:worker_threads';
const n: number = workerData as number;
parentPort!.postMessage(n * n);
`;
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:
  pool:
    cmd: stages/pool.ts
    outs: [out/square.json]
`,
      'package.json': '{ "type": "module" }\n',
      'stages/pool.ts': POOL,
      'stages/shared/square.ts': SQUARE,
      'stages/shared/worker-entry.ts': readFileSync(
        join(import.meta.dirname, '../lib/stage-api/worker-entry.ts'),
        'utf8',
      ),
    });
    await build(ws);
    const [tree] = trees(ws);
    expect(JSON.parse(ws.read('out/square.json'))).toEqual({
      entry: `file://${ws.path(`.pipe/compiled/${tree}/stages/shared/square.js`)}`,
      squared: 49,
    });

    // Under tsx there is no compiled module to start (the stage then starts the .ts through tsx).
    ws.write('tsconfig.json', '{ "compilerOptions": { "experimentalDecorators": true } }\n');
    await build(ws, '--force');
    expect(JSON.parse(ws.read('out/square.json'))).toEqual({ entry: null, squared: null });
  });
});
