// A stage's code deps, found by the runner: for a node script, the script, the SQL beside it and
// every local file of its import closure (observe/code-closure.ts), with the installed version
// of each package it imports. A command line (`python3 train.py`) has none beyond its declared
// deps: which files a program reads is not ours to guess.
//
// The closure is cached in .pipe/code-deps.json per script, with the hash of every file it was
// found from and the paths tried and not found. A file's content decides which files it imports,
// so the cached closure holds exactly while every one of its files hashes as recorded (through
// the state cache: stats only on a no-op) and none of the missing paths has appeared; otherwise
// it is found again (milliseconds) and the cache rewritten.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { findCodeClosure, installedVersion, type CodeClosure } from '../observe/code-closure.js';
import type { PathHash } from '../observe/types.js';

const CACHE_FILE = '.pipe/code-deps.json';

/** Bumped when module-references.ts or the resolution in code-closure.ts finds other files. */
const CACHE_FORMAT = 1;

interface CacheDocument {
  readonly format: typeof CACHE_FORMAT;
  readonly scripts: Record<string, CodeClosure>;
}

/** One cache per workspace per process, read on first use. */
const loaded = new Map<string, CacheDocument>();

function cacheOf(workspace: string): CacheDocument {
  let doc = loaded.get(workspace);
  if (doc === undefined) {
    doc = readCache(workspace) ?? { format: CACHE_FORMAT, scripts: {} };
    loaded.set(workspace, doc);
  }
  return doc;
}

/** The cache on disk, or undefined when missing, unreadable or of another format (then rebuilt). */
function readCache(workspace: string): CacheDocument | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(workspace, CACHE_FILE), 'utf8')) as CacheDocument;
    return doc.format === CACHE_FORMAT && typeof doc.scripts === 'object' ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** Hashes one workspace-relative file as the stage's other inputs are (memo + state cache). */
export type HashFile = (path: string) => Promise<PathHash>;

/** The import closure of `script`, from the cache when none of its files changed. */
export async function currentClosure(
  workspace: string,
  script: string,
  hashFile: HashFile,
): Promise<CodeClosure> {
  const doc = cacheOf(workspace);
  const known = doc.scripts[script];
  if (known !== undefined && (await stillHolds(workspace, known, hashFile))) return known;
  const found = findCodeClosure(workspace, script);
  doc.scripts[script] = found;
  scheduleSave(workspace, doc);
  return found;
}

/** Workspaces whose cache is being written, and whether it changed again meanwhile. */
const saving = new Map<string, { again: boolean }>();

/**
 * Writes the shared document in the background, coalescing: when every stage's closure is found
 * again (an edit in lib/stage-api) a status makes one or two writes, not one per stage, and no
 * stage waits for a flush. Node exits only once the write is done. A cache that cannot be
 * written (read-only .pipe) only costs the next run this scan again.
 */
function scheduleSave(workspace: string, doc: CacheDocument): void {
  const running = saving.get(workspace);
  if (running !== undefined) {
    running.again = true;
    return;
  }
  const state = { again: true };
  saving.set(workspace, state);
  void (async () => {
    while (state.again) {
      state.again = false;
      await writeFileAtomic(join(workspace, CACHE_FILE), `${JSON.stringify(doc)}\n`).catch(
        () => {},
      );
    }
    saving.delete(workspace);
  })();
}

async function stillHolds(
  workspace: string,
  closure: CodeClosure,
  hashFile: HashFile,
): Promise<boolean> {
  if (closure.absent.some((p) => existsSync(join(workspace, p)))) return false;
  const paths = Object.keys(closure.files);
  const hashes = await Promise.all(paths.map(hashFile));
  return hashes.every((h, i) => h.kind === 'file' && h.sha256 === closure.files[paths[i]!]);
}

/**
 * The installed version of each package `closure` imports, by name; null when it is not
 * installed. When files in different folders load different copies, every version is listed.
 */
export function packageVersions(
  workspace: string,
  closure: CodeClosure,
): Record<string, string | null> {
  const versions: Record<string, string | null> = {};
  for (const [name, dirs] of Object.entries(closure.packages)) {
    const found = new Set<string>();
    for (const dir of dirs) {
      const version = installedVersion(workspace, dir, name);
      if (version !== undefined) found.add(version);
    }
    versions[name] = found.size === 0 ? null : [...found].sort().join(', ');
  }
  return versions;
}
