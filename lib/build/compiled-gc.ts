// What `pipe gc` removes of .pipe/compiled (compiled-stage.ts): trees no stage's code in
// pipeline.lock was compiled from, and temp folders a killed build left, once older than the
// grace period. A tree is kept while some lock entry records exactly the sources its manifest
// lists: the next build of that code finds it again; any other tree is for code that changed.
import { readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { LockFile } from './lockfile.js';
import { COMPILED } from './compile-closure.js';
import { COMPILED_DIR, readTreeManifest, type TreeManifest } from './compiled-stage.js';

export interface CompiledGc {
  /** Workspace-relative folders removed (or that would be, with --dry-run). */
  readonly removed: string[];
  /** Compiled from code the lock records. */
  readonly kept: number;
  /** Not referenced, but younger than the grace period. */
  readonly young: number;
}

export interface CompiledGcOptions {
  readonly now: number;
  readonly graceMs: number;
  readonly dryRun: boolean;
}

/** Each lock entry's compiled modules, path -> sha256, as one comparable string. */
function lockedSources(lock: LockFile): Set<string> {
  const found = new Set<string>();
  for (const entry of Object.values(lock.stages)) {
    const modules = Object.entries(entry.cmd).filter(([p]) => COMPILED[posix.extname(p)]);
    found.add(canonical(Object.fromEntries(modules)));
  }
  return found;
}

function canonical(sources: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(sources).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function referenced(manifest: TreeManifest | undefined, locked: ReadonlySet<string>): boolean {
  return manifest !== undefined && locked.has(canonical(manifest.sources));
}

export async function collectCompiled(
  root: string,
  lock: LockFile,
  options: CompiledGcOptions,
): Promise<CompiledGc> {
  const dir = join(root, COMPILED_DIR);
  let names: string[] = [];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const locked = lockedSources(lock);
  const result = { removed: [] as string[], kept: 0, young: 0 };
  for (const name of names) {
    const path = join(dir, name);
    if (referenced(readTreeManifest(path), locked)) {
      result.kept++;
      continue;
    }
    if (options.now - (await stat(path)).mtimeMs < options.graceMs) {
      result.young++;
      continue;
    }
    result.removed.push(`${COMPILED_DIR}/${name}`);
    if (!options.dryRun) await rm(path, { recursive: true, force: true });
  }
  return result;
}
