// What module-references.ts reads from a source text. Each case's expected list is the set of
// specifiers written in it as real references (by construction of the text), in source order;
// every look-alike in a comment, string, template or regular expression must be skipped.
import { describe, expect, it } from 'vitest';
import { loadsBeyondReferences, moduleReferences } from '../lib/observe/module-references.js';

const specs = (text: string) => moduleReferences(text).map((r) => `${r.kind} ${r.specifier}`);

describe('module references', () => {
  it('finds every import form TypeScript and node accept', () => {
    const text = `#!/usr/bin/env node
import def from './a.js';
import * as ns from "./b.js";
import { x, type Y, z as w } from './c.js';
import type { T } from '../d.js';
import def2, { q } from './e.js';
import './side-effect.js';
import from from './named-from.js';
export * from './f.js';
export * as g from './g.js';
export { h } from './h.js';
export type { I } from './i.js';
import eq = require('./j.cjs');
const lazy = await import('./k.js');
const withOptions = await import('./l.json', { with: { type: 'json' } });
const cjs = require('pkg-cjs');
const url = import.meta.resolve('tsx/esm/api');
const sql = new URL('../clean.aalto-batch.sql', import.meta.url);
const here = import.meta.url;
const worker = new URL('./worker.ts', here).href;
`;
    expect(specs(text)).toEqual([
      'import ./a.js',
      'import ./b.js',
      'import ./c.js',
      'import ../d.js',
      'import ./e.js',
      'import ./side-effect.js',
      'import ./named-from.js',
      'import ./f.js',
      'import ./g.js',
      'import ./h.js',
      'import ./i.js',
      'import ./j.cjs',
      'import ./k.js',
      'import ./l.json',
      'import pkg-cjs',
      'import tsx/esm/api',
      'url ../clean.aalto-batch.sql',
      'url ./worker.ts',
    ]);
  });

  it('skips look-alikes in comments, strings, templates and regular expressions', () => {
    const text = `
// import a from './comment.js';
/* import b from './block.js'; new URL('./block-url.ts', import.meta.url) */
const s = "import c from './string.js'";
const t = \`import d from './template.js' \${ "x" }\`;
const re = /import e from '.\\/regex.js'/g;
const split = "a'b".split(/'/);
const division = 4 / 2; const y = 'import f from "./after-division.js"';
const name = 'clean.sql';
const computed = await import(name);
const notALiteral = new URL(name, import.meta.url);
obj.import('./method.js');
export const value = 1;
export default function main() {}
export { value as v };
import real from './real.js';
const t2 = \`\${ await import('./in-substitution.js') }\`;
`;
    expect(specs(text)).toEqual(['import ./real.js', 'import ./in-substitution.js']);
  });

  it('a no-substitution template is a literal specifier', () => {
    expect(specs('await import(`./tpl.js`);')).toEqual(['import ./tpl.js']);
  });

  it('tells code that loads more than its literal references (computed import, relative require)', () => {
    // Literal imports and package requires are all moduleReferences needs.
    expect(
      loadsBeyondReferences("import a from './a.js'; await import('./b.js'); require('pkg');"),
    ).toBe(false);
    // Look-alikes in strings, comments and member calls are no loads.
    expect(
      loadsBeyondReferences(
        `const s = \`import(\${x})\`; // import(y)\nobj.import(z); obj.require(w);`,
      ),
    ).toBe(false);
    expect(loadsBeyondReferences('await import(name);')).toBe(true);
    expect(loadsBeyondReferences(`await import(\`./plugins/\${name}.js\`);`)).toBe(true);
    expect(loadsBeyondReferences("const m = require('./m.cjs');")).toBe(true);
    expect(loadsBeyondReferences('const m = require(name);')).toBe(true);
  });
});
