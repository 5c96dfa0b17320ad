// How a TypeScript stage starts: from its closure compiled to JavaScript (compile-closure.ts),
// kept under .pipe/compiled/<key>/, or under tsx as before when that cannot be done faithfully.
// `node --import tsx` pays ~0.15 s per stage for tsx's loader thread (every import crosses it);
// the compiled tree starts as plain node.
//
// The key is the sha256 of the bytes of every module of the closure as read now (with their
// paths, the script, esbuild's version and the target): an edit makes another key, so a compiled
// file never runs in place of edited source. A tree is written in a temp folder and renamed into
// place whole, its manifest (each compiled file's sha256) written last; before each use every
// compiled file is checked against it, so a tree a crash or a hand left half-written or altered
// is never run: it is removed and compiled again. Any refusal or failure runs the stage under tsx.
//
// tsx is only left out when the compiled tree loads what tsx would: every module inside the
// workspace, none through a symlink, governed by the workspace's package.json ("type":
// "module"; no package.json or node_modules in a folder between, so packages resolve from the
// same node_modules), and no tsconfig.json option that makes tsx transpile otherwise.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import type { Sha256Hex } from '../util/sha256.js';
import {
  COMPILED,
  compileClosure,
  esbuildVersion,
  Refusal,
  RESERVED_PREFIX,
  TARGET,
} from './compile-closure.js';

export const COMPILED_DIR = '.pipe/compiled';
/** Bumped when what compile-closure.ts writes changes: old trees are then never used. */
const FORMAT = 1;
/** In each tree's root: written last, it lists every compiled file with its sha256. */
export const TREE_MANIFEST = 'compiled.json';

export interface TreeManifest {
  readonly format: number;
  readonly key: string;
  /** The script's compiled file, tree-relative. */
  readonly entry: string;
  /** The closure's modules the tree was compiled from: workspace-relative path -> sha256. */
  readonly sources: Readonly<Record<string, string>>;
  /** Tree-relative compiled path -> sha256. */
  readonly outputs: Readonly<Record<string, string>>;
}

export type StageLaunch =
  | {
      readonly kind: 'compiled';
      readonly entry: string;
      /** The tree's absolute folder: the stage's worker entries map into it (PIPE_COMPILED). */
      readonly tree: string;
    }
  | { readonly kind: 'tsx'; readonly why: string };

/** Extensions whose module semantics a compiled ES module tree would not keep. */
const NOT_COMPILED = new Set(['.cts', '.cjs', '.tsx', '.jsx']);

/**
 * How to start `script`: its compiled file, or tsx and why not. `code` is the stage's code as
 * observed (path -> sha256: the script, its import closure, SQL beside it); `env` the stage's.
 */
export async function stageLaunch(
  workspace: string,
  script: string,
  code: Readonly<Record<string, Sha256Hex>>,
  env: NodeJS.ProcessEnv,
): Promise<StageLaunch> {
  try {
    const modules = closureModules(script, code);
    checkSurroundings(workspace, modules, env);
    const sources = new Map<string, string>();
    const hashes: Record<string, string> = {};
    for (const path of modules) {
      const bytes = readFileSync(join(workspace, path));
      hashes[path] = sha256(bytes);
      const text = bytes.toString('utf8');
      if (text.includes(RESERVED_PREFIX))
        throw new Refusal(`${path} uses the name ${RESERVED_PREFIX}*`);
      sources.set(path, text);
    }
    const key = sha256(
      JSON.stringify({ format: FORMAT, esbuild: esbuildVersion(), target: TARGET, script, hashes }),
    );
    const dir = join(workspace, COMPILED_DIR, key);
    const entry = verifiedEntry(dir, key);
    if (entry !== undefined) return { kind: 'compiled', entry, tree: dir };
    if (existsSync(dir)) await discard(dir, key);
    const compiled = await compileClosure({
      workspace,
      sources,
      script,
      depth: COMPILED_DIR.split('/').length + 1,
    });
    const ext = posix.extname(script);
    const manifest: TreeManifest = {
      format: FORMAT,
      key,
      entry: script.slice(0, -ext.length) + COMPILED[ext]!.out,
      sources: hashes,
      outputs: Object.fromEntries([...compiled].map(([p, text]) => [p, sha256(text)])),
    };
    return { kind: 'compiled', entry: await place(dir, key, compiled, manifest), tree: dir };
  } catch (e) {
    return { kind: 'tsx', why: e instanceof Error ? e.message : String(e) };
  }
}

function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

/** The closure's JavaScript and TypeScript modules, sorted; refuses kinds it cannot compile. */
function closureModules(script: string, code: Readonly<Record<string, Sha256Hex>>): string[] {
  const modules: string[] = [];
  for (const path of Object.keys(code)) {
    const ext = posix.extname(path);
    if (NOT_COMPILED.has(ext)) throw new Refusal(`${path}: ${ext} files are run by tsx`);
    if (COMPILED[ext] === undefined) continue; // SQL and other files: read from the source
    if (path.startsWith('../') || posix.isAbsolute(path))
      throw new Refusal(`${path} is outside the workspace`);
    modules.push(path);
  }
  if (!modules.includes(script)) throw new Refusal(`${script} is not in its own closure`);
  return modules.sort();
}

/** Refuses when node would resolve or read the compiled tree differently from the sources. */
function checkSurroundings(
  workspace: string,
  modules: readonly string[],
  env: NodeJS.ProcessEnv,
): void {
  if (env.TSX_TSCONFIG_PATH !== undefined) throw new Refusal('TSX_TSCONFIG_PATH is set');
  checkTsconfig(workspace);
  const needsModuleType = modules.some((p) => p.endsWith('.ts') || p.endsWith('.js'));
  if (needsModuleType && nearestPackageType(workspace) !== 'module')
    throw new Refusal('the package.json governing the workspace does not say "type": "module"');
  const real = realpathSync(workspace);
  const folders = new Set<string>();
  for (const path of modules) {
    if (realpathSync(join(workspace, path)) !== join(real, path))
      throw new Refusal(`${path} is reached through a symlink`);
    for (let d = posix.dirname(path); d !== '.'; d = posix.dirname(d)) folders.add(d);
  }
  for (const folder of folders) {
    for (const name of ['package.json', 'node_modules']) {
      if (existsSync(join(workspace, folder, name)))
        throw new Refusal(`${folder}/${name} would no longer govern the compiled files`);
    }
  }
}

/** tsconfig options that change what esbuild emits or how tsx resolves (tsx reads the nearest). */
const SEMANTIC_OPTIONS = [
  'experimentalDecorators',
  'emitDecoratorMetadata',
  'useDefineForClassFields',
  'verbatimModuleSyntax',
  'preserveValueImports',
  'importsNotUsedAsValues',
  'paths',
  'baseUrl',
  'jsx',
  'jsxFactory',
  'jsxFragmentFactory',
  'jsxImportSource',
];

function checkTsconfig(workspace: string): void {
  const path = nearest(workspace, 'tsconfig.json');
  if (path === undefined) return;
  let config: { extends?: unknown; compilerOptions?: Record<string, unknown> };
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as typeof config;
  } catch {
    throw new Refusal(`${path} is not plain JSON`);
  }
  if (config.extends !== undefined) throw new Refusal(`${path} extends another tsconfig`);
  const options = config.compilerOptions ?? {};
  const set = SEMANTIC_OPTIONS.find((o) => options[o] !== undefined);
  if (set !== undefined) throw new Refusal(`${path} sets ${set}`);
  // Below ES2022, TypeScript's class fields are assignments: esbuild follows the target.
  const target = options.target;
  if (typeof target === 'string' && !/^es(next|20(2[2-9]|[3-9]\d))$/i.test(target))
    throw new Refusal(`${path} sets target ${target}`);
}

function nearestPackageType(workspace: string): unknown {
  const path = nearest(workspace, 'package.json');
  if (path === undefined) return undefined;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { type?: unknown }).type;
  } catch {
    return undefined;
  }
}

function nearest(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, name))) return join(dir, name);
    if (dirname(dir) === dir) return undefined;
  }
}

/** The tree's manifest when it is whole and of this key and format, else undefined. */
export function readTreeManifest(dir: string): TreeManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, TREE_MANIFEST), 'utf8')) as TreeManifest;
    return manifest.format === FORMAT && typeof manifest.outputs === 'object'
      ? manifest
      : undefined;
  } catch {
    return undefined;
  }
}

/** The absolute entry of the tree at `dir` when every compiled file is as its manifest says. */
function verifiedEntry(dir: string, key: string): string | undefined {
  const manifest = readTreeManifest(dir);
  if (manifest === undefined || manifest.key !== key) return undefined;
  if (!(manifest.entry in manifest.outputs)) return undefined;
  for (const [path, hash] of Object.entries(manifest.outputs)) {
    try {
      if (sha256(readFileSync(join(dir, path))) !== hash) return undefined;
    } catch {
      return undefined;
    }
  }
  return join(dir, manifest.entry);
}

/** A temp name beside the tree's (debris.ts sweeps such names a kill leaves behind). */
function tempBeside(dir: string, key: string): string {
  return join(dirname(dir), `.${key}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Moves a bad tree out of its name first, so nothing ever sees it half removed. */
async function discard(dir: string, key: string): Promise<void> {
  const aside = tempBeside(dir, key);
  await rename(dir, aside);
  await rm(aside, { recursive: true, force: true });
}

/** Writes the tree beside its name and renames it into place; returns its absolute entry. */
async function place(
  dir: string,
  key: string,
  compiled: ReadonlyMap<string, string>,
  manifest: TreeManifest,
): Promise<string> {
  const temp = tempBeside(dir, key);
  try {
    for (const [path, text] of compiled) {
      await mkdir(dirname(join(temp, path)), { recursive: true });
      await writeFile(join(temp, path), text);
    }
    await writeFile(join(temp, TREE_MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
    try {
      await rename(temp, dir);
    } catch (e) {
      // Another build placed the same key first: use its tree if it is whole.
      const entry = verifiedEntry(dir, key);
      if (entry === undefined) throw e;
      return entry;
    }
    return join(dir, manifest.entry);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
