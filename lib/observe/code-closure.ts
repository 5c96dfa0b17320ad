// The code a node script runs: every local file reached from it through module references
// (module-references.ts), resolved as node with tsx resolves them, plus the packages it imports.
// This module finds one file's links; build/code-deps.ts walks them from the script, caching
// each file's links by its hash so an edit re-reads only the edited file.
//
// WHY a scan of our own and not esbuild's metafile: a bundler drops type-only imports and
// imports whose bindings are unused, and knows nothing of `new URL('./worker.ts',
// import.meta.url)`, which is how stages start worker threads and find their SQL; we would need
// a scan for those anyway. The scan reads only files of the workspace (packages are not
// entered: their installed version stands for them), takes milliseconds for the ~60 files of a
// stage, and needs no extra dependency at run time.
//
//   stages/clean.ts ──import──▶ stages/shared/clean-load.ts ──new URL──▶ stages/clean.aalto-batch.sql
//                   ──import──▶ lib/stage-api/index.ts ──▶ lib/pipeline/config.ts ──▶ ...
//                   ──import──▶ @duckdb/node-api          (a package: its version, not its files)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Sha256Hex } from '../util/sha256.js';
import { moduleReferences, type ModuleReference } from './module-references.js';

/** What one file of a closure leads to, found from its bytes and the files around it. */
export interface FileLinks {
  /** sha256 of the bytes the links were read from. */
  readonly sha256: Sha256Hex;
  /** Workspace-relative files it imports or names by URL, as resolved (sorted). */
  readonly files: readonly string[];
  /**
   * Paths tried while resolving and not there (`./x.js` tried before `./x.ts`): a file created
   * at one of them would change what resolves, so the links must be found again. Sorted.
   */
  readonly absent: readonly string[];
  /** Names of the packages it imports (sorted). */
  readonly packages: readonly string[];
}

/** Files whose text is scanned for references; every other file is code by content only. */
const SCANNED = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx']);

/** How tsx (like TypeScript) maps a JavaScript extension in a specifier to the source file. */
const TS_FOR_JS: Readonly<Record<string, readonly string[]>> = {
  '.js': ['.ts', '.tsx'],
  '.jsx': ['.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
};

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** What tsx tries after an extensionless specifier, in its order. */
const APPENDED = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs', '.jsx', '.json'];

const BUILTIN = new Set(builtinModules);

const toPosix = (p: string): string => (sep === '/' ? p : p.split(sep).join('/'));

/**
 * How the stage's node resolves modules: with tsx loaded (a TypeScript script) a specifier may
 * name `./x.js` for `./x.ts` or leave the extension out; plain node (a .js/.mjs script) loads
 * exactly the file named.
 */
export type Resolver = 'tsx' | 'node';

/**
 * The links of the workspace-relative `path`, or undefined when it cannot be read (gone). A file
 * that is not JavaScript or TypeScript (`.sql`) has none: it is code by its content only.
 */
export function linksOf(
  workspace: string,
  path: string,
  resolver: Resolver,
): FileLinks | undefined {
  const abs = resolve(workspace, path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch {
    return undefined;
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex') as Sha256Hex;
  const files = new Set<string>();
  const absent = new Set<string>();
  const packages = new Set<string>();
  const rel = (p: string) => toPosix(relative(workspace, p));
  if (SCANNED.has(extname(abs))) {
    for (const ref of moduleReferences(bytes.toString('utf8'))) {
      const target = classify(ref, abs, resolver);
      if (target.kind === 'package') packages.add(target.name);
      else if (target.kind === 'local') {
        const found = firstFile(target.candidates);
        for (const missing of found.tried) absent.add(rel(missing));
        if (found.file !== undefined) files.add(rel(found.file));
      }
    }
  }
  return {
    sha256,
    files: [...files].sort(),
    absent: [...absent].filter((p) => !files.has(p)).sort(),
    packages: [...packages].sort(),
  };
}

type Target =
  | { kind: 'local'; candidates: readonly string[] }
  | { kind: 'package'; name: string }
  /** A node built-in, a `#` subpath import, a data: or http: URL: not a file of the workspace. */
  | { kind: 'other' };

function classify(ref: ModuleReference, importer: string, resolver: Resolver): Target {
  const s = ref.specifier;
  if (ref.kind === 'url') {
    let url: URL;
    try {
      url = new URL(s, pathToFileURL(importer));
    } catch {
      return { kind: 'other' };
    }
    if (url.protocol !== 'file:') return { kind: 'other' };
    // Under tsx, a worker entry named `./w.js` is `./w.ts` when run from source.
    const abs = fileURLToPath(url);
    return { kind: 'local', candidates: resolver === 'tsx' ? [abs, ...tsSources(abs)] : [abs] };
  }
  if (s.startsWith('./') || s.startsWith('../') || s === '.' || s === '..' || s.startsWith('/'))
    return {
      kind: 'local',
      candidates: moduleCandidates(resolve(dirname(importer), s), importer, resolver),
    };
  if (s.startsWith('file:'))
    return { kind: 'local', candidates: moduleCandidates(fileURLToPath(s), importer, resolver) };
  if (s.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(s)) return { kind: 'other' };
  const parts = s.split('/');
  const name = s.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return BUILTIN.has(name) ? { kind: 'other' } : { kind: 'package', name };
}

function tsSources(abs: string): string[] {
  const ext = extname(abs);
  return (TS_FOR_JS[ext] ?? []).map((ts) => abs.slice(0, -ext.length) + ts);
}

/**
 * Where a module specifier may land, in the order tried. Plain node: the file named. tsx: from a
 * TypeScript file, `./x.js` is `./x.ts` when that exists and `./x.js` only otherwise; from a
 * JavaScript file the other way round (checked against tsx 4: both files present, each importer
 * loads its own kind); an extensionless specifier gets tsx's extensions and `index` files. That
 * is tsx on ES modules (package.json `"type": "module"`, as stages are); for CommonJS it maps
 * less, and a file named here that tsx would not load makes the stage fail, never pass unseen.
 */
function moduleCandidates(abs: string, importer: string, resolver: Resolver): string[] {
  if (resolver === 'node') return [abs];
  const ext = extname(abs);
  if (TS_FOR_JS[ext] !== undefined)
    return TS_EXTENSIONS.has(extname(importer))
      ? [...tsSources(abs), abs]
      : [abs, ...tsSources(abs)];
  if (SCANNED.has(ext) || ext === '.json') return [abs];
  return [abs, ...APPENDED.map((e) => abs + e), ...APPENDED.map((e) => join(abs, `index${e}`))];
}

/**
 * The first candidate that is a file, and the ones tried before it that do not exist. A folder
 * (`new URL('./', import.meta.url)`) is neither: it is not code, and its files are not either.
 */
function firstFile(candidates: readonly string[]): { file?: string; tried: string[] } {
  const tried: string[] = [];
  for (const c of candidates) {
    let isFile: boolean;
    try {
      isFile = statSync(c).isFile();
    } catch {
      tried.push(c);
      continue;
    }
    if (isFile) return { file: c, tried };
  }
  return { tried };
}

/**
 * The version of package `name` that node loads for a file in `fromDir` (workspace-relative):
 * the `version` of the first `node_modules/<name>/package.json` up the folder tree, as node's
 * resolution walks it. Undefined when it is not installed.
 */
export function installedVersion(
  workspace: string,
  fromDir: string,
  name: string,
): string | undefined {
  const start = resolve(workspace, fromDir);
  const key = `${start}\0${name}`;
  if (!versions.has(key)) versions.set(key, findVersion(start, name));
  return versions.get(key);
}

/**
 * Answers per folder and package, once per process: the five stages ask for the same few
 * packages from the same folders, and node_modules does not change under a running pipe.
 */
const versions = new Map<string, string | undefined>();

function findVersion(start: string, name: string): string | undefined {
  for (let dir = start; ; ) {
    if (basename(dir) !== 'node_modules') {
      const manifest = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(manifest)) {
        try {
          return versionIn(readFileSync(manifest, 'utf8'), manifest);
        } catch {
          return `(unreadable ${manifest})`;
        }
      }
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function versionIn(text: string, manifest: string): string {
  try {
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : `(no version in ${manifest})`;
  } catch {
    return `(unreadable ${manifest})`;
  }
}
