// A TypeScript stage's closure transpiled to plain JavaScript, one file per source file, with
// esbuild's transform (the compiler tsx itself runs, with tsx's options), so that the stage
// starts as `node <compiled script>` without tsx's loader thread (compiled-stage.ts decides when).
//
//   stages/keypairs.ts          ─▶ .pipe/compiled/<key>/stages/keypairs.js
//   stages/shared/parts.ts      ─▶ .pipe/compiled/<key>/stages/shared/parts.js
//   lib/stage-api/index.ts      ─▶ .pipe/compiled/<key>/lib/stage-api/index.js
//
// Imports written `./x.js` find the compiled `x.js` beside it. `import.meta.url` (and `dirname`,
// `filename`) keep naming the SOURCE file, so `new URL('keypairs.sql', import.meta.url)`, a
// worker entry, `createRequire(import.meta.url)` and any file read by a computed name relative to
// it are found exactly where they are found today; the compiled file computes that URL from its
// own place, so the tree stays valid if the workspace moves. Each file carries an inline source
// map naming its source, so with `--enable-source-maps` a stack trace names `stages/x.ts:line`.
//
// What this cannot reproduce is refused (Refusal), and the stage runs under tsx as before: a
// relative import of anything but another compiled file (`./x`, `./x.ts`, `./data.json`), a
// `#` or absolute specifier, a package whose entry is TypeScript, a computed `import(...)`, a relative `require`, `import.meta`
// used whole.
import { readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { loadsBeyondReferences, moduleReferences } from '../observe/module-references.js';

/** Source extension -> compiled extension, and esbuild's loader for it. */
export const COMPILED: Readonly<Record<string, { out: string; loader: 'ts' | 'js' }>> = {
  '.ts': { out: '.js', loader: 'ts' },
  '.mts': { out: '.mjs', loader: 'ts' },
  '.js': { out: '.js', loader: 'js' },
  '.mjs': { out: '.mjs', loader: 'js' },
};

/** Names the compiled code uses for the source's import.meta values (defined in the banner). */
const META_URL = '__pipe_meta_url';
const META_FILENAME = '__pipe_meta_filename';
const META_DIRNAME = '__pipe_meta_dirname';
/** A source that already uses a name with this prefix could clash with ours: not compiled. */
export const RESERVED_PREFIX = '__pipe_meta_';

export class Refusal extends Error {}

/** The version of the esbuild this pipe would load, read without loading it (a cache key part). */
export function esbuildVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest = join(dirname(require.resolve('esbuild')), '..', 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The esbuild target tsx gives esbuild: this node. Part of the cache key. */
export const TARGET = `node${process.versions.node}`;

export interface CompileInput {
  /** Absolute path of the workspace the sources are in. */
  readonly workspace: string;
  /** Workspace-relative path -> source text, for every module of the closure. */
  readonly sources: ReadonlyMap<string, string>;
  /** The stage's script (one of `sources`): its compiled file also sets process.argv[1]. */
  readonly script: string;
  /** How deep the tree's root is below the workspace (`.pipe/compiled/<key>`: 3). */
  readonly depth: number;
}

/** Workspace-relative compiled path -> JavaScript text. Throws Refusal (or esbuild's error). */
export async function compileClosure(input: CompileInput): Promise<Map<string, string>> {
  const { transform } = await import('esbuild');
  const outPath = new Map<string, string>();
  for (const path of input.sources.keys()) {
    const ext = posix.extname(path);
    const out = path.slice(0, -ext.length) + COMPILED[ext]!.out;
    if ([...outPath.values()].includes(out))
      throw new Refusal(`${path} and another file both compile to ${out}`);
    outPath.set(path, out);
  }
  const outputs = new Set(outPath.values());
  const compiled = new Map<string, string>();
  await Promise.all(
    [...input.sources].map(async ([path, text]) => {
      const out = outPath.get(path)!;
      // From the compiled file's folder back to the source: '../../../../stages/x.ts'.
      const up = '../'.repeat(input.depth + out.split('/').length - 1);
      const toSource = `${up}${path}`;
      const head = banner(toSource, path === input.script);
      const result = await transform(text, {
        loader: COMPILED[posix.extname(path)]!.loader,
        format: 'esm',
        target: TARGET,
        keepNames: true,
        sourcemap: 'inline',
        sourcesContent: false,
        sourcefile: toSource,
        define: {
          'import.meta.url': META_URL,
          'import.meta.filename': META_FILENAME,
          'import.meta.dirname': META_DIRNAME,
        },
        banner: head,
      });
      if (!result.code.startsWith(head)) throw new Refusal(`${path}: esbuild moved the banner`);
      checkCompiled(path, out, result.code.slice(head.length), outputs);
      checkPackages(input.workspace, path, result.code);
      compiled.set(out, result.code);
    }),
  );
  return compiled;
}

/** The lines before the compiled code: the source's import.meta values, computed at run time. */
function banner(toSource: string, isScript: boolean): string {
  const lines = [
    `const ${META_URL} = new URL(${JSON.stringify(toSource)}, import.meta.url).href;`,
    `const ${META_FILENAME} = process.getBuiltinModule('node:url').fileURLToPath(${META_URL});`,
    `const ${META_DIRNAME} = process.getBuiltinModule('node:path').dirname(${META_FILENAME});`,
  ];
  // As under tsx, the script's own path is process.argv[1].
  if (isScript) lines.push(`process.argv[1] = ${META_FILENAME};`);
  return lines.join('\n');
}

const TS_FILE = /\.(ts|mts|cts|tsx)$/;

/**
 * Refuses a package that ships TypeScript for node to load (a workspace-linked package): tsx
 * compiles it on the fly, plain node cannot. Resolved as `require` would from the source file;
 * a package that resolution cannot find is left to node (as it is under tsx).
 */
function checkPackages(workspace: string, path: string, code: string): void {
  const require = createRequire(join(workspace, path));
  for (const ref of moduleReferences(code)) {
    const s = ref.specifier;
    if (ref.kind !== 'import' || s.startsWith('.') || isBuiltin(s)) continue;
    let resolved: string;
    try {
      resolved = require.resolve(s);
    } catch {
      continue;
    }
    if (TS_FILE.test(resolved)) throw new Refusal(`${path} imports ${s}, which is TypeScript`);
  }
}

/** Refuses compiled code that would not load or find what its source does under tsx. */
function checkCompiled(
  path: string,
  out: string,
  code: string,
  outputs: ReadonlySet<string>,
): void {
  if (/\bimport\.meta(?!\.resolve\b)/.test(code))
    throw new Refusal(`${path} uses import.meta other than .url, .dirname, .filename, .resolve`);
  if (loadsBeyondReferences(code))
    throw new Refusal(`${path} has a computed import() or a relative require()`);
  for (const ref of moduleReferences(code)) {
    if (ref.kind !== 'import') continue;
    const s = ref.specifier;
    if (s.startsWith('#') || s.startsWith('/') || s.startsWith('file:'))
      throw new Refusal(`${path} imports ${s}`);
    if (!s.startsWith('./') && !s.startsWith('../')) continue; // a package or a built-in
    const target = posix.normalize(posix.join(posix.dirname(out), s));
    if (!outputs.has(target))
      throw new Refusal(`${path} imports ${s}, which is no compiled file of its closure`);
  }
}
