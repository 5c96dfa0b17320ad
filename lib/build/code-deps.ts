// A stage's code deps, found by the runner: for a node script, the script, the SQL beside it and
// every local file of its import closure (observe/code-closure.ts), with the installed version
// of each package it imports. A command line (`python3 train.py`) has none beyond its declared
// deps: which files a program reads is not ours to guess.
//
// The closure is walked from the script through each file's links (what it imports or names by
// URL). Links are cached in .pipe/code-deps.json per file, with the hash of the bytes they were
// read from and the paths tried and not found. A file's content decides its links, so cached
// links hold exactly while the file hashes as recorded (through the state cache: stats only on a
// no-op), none of the missing paths has appeared and every linked file is still there (the walk
// hashes it anyway); otherwise that one file is read again. An edit re-reads the edited file, not the whole closure.
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import {
  installedVersion,
  linksOf,
  type FileLinks,
  type Resolver,
} from '../observe/code-closure.js';
import type { PathHash } from '../observe/types.js';
import { isTypeScriptScript } from '../graph/stage.js';
import type { Sha256Hex } from '../util/sha256.js';

const CACHE_FILE = '.pipe/code-deps.json';

/** Bumped when module-references.ts or the resolution in code-closure.ts finds other links. */
const CACHE_FORMAT = 3;

interface CacheDocument {
  readonly format: typeof CACHE_FORMAT;
  /** Per resolver (a file's links differ under tsx), workspace-relative path -> its links. */
  readonly files: Record<Resolver, Record<string, FileLinks>>;
}

/**
 * How the stage process resolves imports, as stage-process.ts starts it: a .ts/.mts script with
 * tsx loaded, any other node script with plain node.
 */
function resolverOf(script: string): Resolver {
  return isTypeScriptScript(script) ? 'tsx' : 'node';
}

/** A script's closure: its code files by hash, and the folders importing each package. */
export interface CodeClosure {
  readonly files: Readonly<Record<string, Sha256Hex>>;
  readonly packages: Readonly<Record<string, readonly string[]>>;
}

/** One cache per workspace per process, read on first use. */
const loaded = new Map<string, CacheDocument>();

function cacheOf(workspace: string): CacheDocument {
  let doc = loaded.get(workspace);
  if (doc === undefined) {
    doc = readCache(workspace) ?? { format: CACHE_FORMAT, files: { tsx: {}, node: {} } };
    loaded.set(workspace, doc);
  }
  return doc;
}

/** The cache on disk, or undefined when missing, unreadable or of another format (then rebuilt). */
function readCache(workspace: string): CacheDocument | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(workspace, CACHE_FILE), 'utf8')) as CacheDocument;
    const usable =
      doc.format === CACHE_FORMAT &&
      typeof doc.files?.tsx === 'object' &&
      typeof doc.files?.node === 'object';
    return usable ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** Hashes one workspace-relative file as the stage's other inputs are (memo + state cache). */
export type HashFile = (path: string) => Promise<PathHash>;

/** The import closure of `script`, each file's links from the cache when it did not change. */
export async function currentClosure(
  workspace: string,
  script: string,
  hashFile: HashFile,
): Promise<CodeClosure> {
  const resolver = resolverOf(script);
  const known = cacheOf(workspace).files[resolver];
  const first = await walk(workspace, script, hashFile, resolver, known);
  if (first.stale.size === 0) return first.closure;
  // A file some cached links lead to is gone: those files resolve their imports anew.
  for (const path of first.stale) delete known[path];
  return (await walk(workspace, script, hashFile, resolver, known)).closure;
}

/**
 * One walk from the script through each file's links, breadth first and one level at a time: a
 * level's files are hashed together (a closure is ~6 levels deep), not one await per file.
 * `stale`: files whose cached links name a file that is gone (the walk's hash says so, with no
 * extra stat per link).
 */
async function walk(
  workspace: string,
  script: string,
  hashFile: HashFile,
  resolver: Resolver,
  known: Record<string, FileLinks>,
): Promise<{ closure: CodeClosure; stale: Set<string> }> {
  const files: Record<string, Sha256Hex> = {};
  const packages = new Map<string, Set<string>>();
  const linkedFrom = new Map<string, string[]>();
  const stale = new Set<string>();
  const seen = new Set([script]);
  let changed = false;
  for (let level = [script]; level.length > 0; ) {
    const hashes = await Promise.all(level.map(hashFile));
    const next: string[] = [];
    for (const [i, path] of level.entries()) {
      const hash = hashes[i]!;
      if (hash.kind !== 'file') {
        // A missing script: the runner says so. A missing linked file: its linkers are stale.
        for (const parent of linkedFrom.get(path) ?? []) stale.add(parent);
        continue;
      }
      let links = known[path];
      if (links === undefined || !stillHold(workspace, links, hash.sha256)) {
        links = linksOf(workspace, path, resolver);
        if (links === undefined) continue; // gone since it was hashed: the next run sees it
        known[path] = links;
        changed = true;
      }
      files[path] = hash.sha256;
      for (const linked of links.files) {
        linkedFrom.set(linked, [...(linkedFrom.get(linked) ?? []), path]);
        if (!seen.has(linked)) {
          seen.add(linked);
          next.push(linked);
        }
      }
      for (const name of links.packages) {
        const from = packages.get(name) ?? new Set<string>();
        from.add(posix.dirname(path));
        packages.set(name, from);
      }
    }
    level = next;
  }
  if (changed) scheduleSave(workspace, cacheOf(workspace));
  const byName = [...packages].map(([name, dirs]) => [name, [...dirs].sort()]);
  return { closure: { files, packages: Object.fromEntries(byName) }, stale };
}

function stillHold(workspace: string, links: FileLinks, sha256: Sha256Hex): boolean {
  return links.sha256 === sha256 && !links.absent.some((p) => existsSync(join(workspace, p)));
}

/** Workspaces whose cache is being written, and whether it changed again meanwhile. */
const saving = new Map<string, { again: boolean }>();

/**
 * Writes the shared document in the background, coalescing: when every stage's closure is found
 * again (a fresh clone) a status makes one or two writes, not one per stage, and no stage waits
 * for a flush. Node exits only once the write is done. Links of files that no longer exist are
 * dropped. A cache that cannot be written (read-only .pipe) only costs the next run a re-read.
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
      for (const links of Object.values(doc.files)) {
        for (const path of Object.keys(links)) {
          if (!existsSync(join(workspace, path))) delete links[path];
        }
      }
      await writeFileAtomic(join(workspace, CACHE_FILE), `${JSON.stringify(doc)}\n`).catch(
        () => {},
      );
    }
    saving.delete(workspace);
  })();
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
