// What compile-closure.ts refuses to compile (the stage then runs under tsx, which handles each):
// every case is a closure that tsx runs but a tree of compiled files would load differently. And
// what it writes for one that compiles: imports kept as written, import.meta naming the source.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileClosure, Refusal } from '../lib/build/compile-closure.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workspace(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pipe-compile-'));
  made.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** Compiles `sources` (path -> text) with stages/a.ts as the script. */
function compile(sources: Record<string, string>, extra: Record<string, string> = {}) {
  const root = workspace({ ...sources, ...extra });
  return compileClosure({
    workspace: root,
    sources: new Map(Object.entries(sources)),
    script: 'stages/a.ts',
    depth: 3,
  });
}

describe('compiling a closure', () => {
  it('keeps .js imports and points import.meta at the source file', async () => {
    const out = await compile({
      'stages/a.ts':
        "import { b } from './shared/b.js';\nconst n: number = b;\nexport const sql = new URL('a.sql', import.meta.url);\n",
      'stages/shared/b.ts': 'export const b: number = 1;\n',
    });
    expect([...out.keys()].sort()).toEqual(['stages/a.js', 'stages/shared/b.js']);
    const a = out.get('stages/a.js')!;
    expect(a).toContain('from "./shared/b.js"');
    // From .pipe/compiled/<key>/stages/ four levels up is the workspace: the source's own URL.
    expect(a).toContain('new URL("../../../../stages/a.ts", import.meta.url)');
    expect(out.get('stages/shared/b.js')).toContain('"../../../../../stages/shared/b.ts"');
    expect(a).toContain('process.argv[1] =');
    expect(out.get('stages/shared/b.js')).not.toContain('process.argv[1] =');
  });

  const refusals: [string, Record<string, string>, Record<string, string>?][] = [
    ['an extensionless import', { 'stages/a.ts': "import './b';\n", 'stages/b.ts': '' }],
    ['an import of a .ts name', { 'stages/a.ts': "import './b.ts';\n", 'stages/b.ts': '' }],
    [
      'an import of a file outside the closure',
      { 'stages/a.ts': "import d from './d.json';\nconsole.log(d);\n" },
    ],
    ['a # import', { 'stages/a.ts': "import '#lib/x.js';\n" }],
    ['a computed import', { 'stages/a.ts': 'const n = "x";\nawait import(n);\n' }],
    ['a relative require', { 'stages/a.ts': "const m = require('./m.cjs');\n" }],
    ['import.meta used whole', { 'stages/a.ts': 'console.log(import.meta);\n' }],
    [
      'two files compiling to one name',
      { 'stages/a.ts': "import './b.js';\n", 'stages/b.ts': '', 'stages/b.js': '' },
    ],
    [
      'a package that ships TypeScript',
      { 'stages/a.ts': "import { t } from 'tspkg';\nconsole.log(t);\n" },
      {
        'node_modules/tspkg/package.json': '{ "name": "tspkg", "main": "index.ts" }',
        'node_modules/tspkg/index.ts': 'export const t: number = 1;\n',
      },
    ],
  ];
  for (const [what, sources, extra] of refusals) {
    it(`refuses ${what}`, async () => {
      await expect(compile(sources, extra)).rejects.toBeInstanceOf(Refusal);
    });
  }

  it('accepts a package that ships JavaScript', async () => {
    const out = await compile(
      { 'stages/a.ts': "import { t } from 'jspkg';\nconsole.log(t);\n" },
      {
        'node_modules/jspkg/package.json': '{ "name": "jspkg", "main": "index.js" }',
        'node_modules/jspkg/index.js': 'exports.t = 1;\n',
      },
    );
    expect(out.get('stages/a.js')).toContain('from "jspkg"');
  });
});
