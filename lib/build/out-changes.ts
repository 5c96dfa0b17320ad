// `incremental: changes` (docs/stage-contract.md, "Incremental stages"): the stage's temp out
// paths start empty and it writes there only the files that are new or changed, and lists in
// PIPE_REMOVALS the files of its previous outputs to remove. Here, after it exited 0, the two are
// applied to the real outs:
//
//   .pipe/tmp/<stage>-x/outs/data/raw/b.json ──rename──▶ data/raw/b.json   (new or replaced)
//   removals.json {"data/raw": ["a.json"]}   ──aside───▶ data/raw/a.json   (and emptied folders)
//
// as one unit (util/replace-outs.ts: a journal, each file's old version moved aside; a kill
// half-way is rolled back by the next mutex holder).
//
// WHY: hard-linking the previous outputs into the temp path and renaming the whole folder into
// place (`incremental: true`) costs a link per file, and an unlink per file when the old folder
// goes: at 241,605 uploads that is 11-18 s of link(2) and 7-15 s of unlink(2) on the bench
// machine's disk (each changes the inode's link count), for one new upload. Applying the changes
// costs what changed. The previous outputs are untouched while the stage runs, so a failed or
// killed run leaves them and the lock entry as they were.
import { existsSync, lstatSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { replaceOuts, type Move } from '../util/replace-outs.js';
import { err, ok, type Result } from '../util/result.js';

/** The file a stage writes its removals to (PIPE_REMOVALS), in its temp folder. */
export const REMOVALS_FILE = 'removals.json';

export interface AppliedChanges {
  /** Workspace-relative paths of the files moved into place, and of what was removed. */
  readonly written: readonly string[];
  readonly removed: readonly string[];
}

/**
 * Applies what the stage wrote into `outsTmp` (declared out -> temp path) and listed in
 * `removalsFile` to the outs under `workspace`. Everything is checked before anything is touched;
 * an error says what the stage did wrong.
 */
export async function applyOutChanges(
  workspace: string,
  tmp: string,
  outsTmp: ReadonlyMap<string, string>,
  removalsFile: string,
): Promise<Result<AppliedChanges, string>> {
  const removals = readRemovals(workspace, removalsFile, outsTmp);
  if (!removals.ok) return removals;
  const writes: Move[] = [];
  for (const [declared, temp] of outsTmp) {
    const st = lstatSync(temp, { throwIfNoEntry: false });
    if (st === undefined) continue; // a file out left as it was
    if (!st.isDirectory()) {
      writes.push({ rel: declared, staged: relative(workspace, temp) });
      continue;
    }
    for (const rel of filesUnder(temp))
      writes.push({ rel: `${declared}/${rel}`, staged: relative(workspace, join(temp, rel)) });
  }
  const removed = new Set(removals.value.map((r) => r.rel));
  const both = writes.find((w) => removed.has(w.rel));
  if (both !== undefined)
    return err(`it both wrote ${both.rel} and listed it in PIPE_REMOVALS; do one or the other`);
  try {
    // Removals first: a file may give way to a folder of the same name.
    await replaceOuts(workspace, tmp, [...removals.value.map((r) => ({ rel: r.rel })), ...writes]);
  } catch (error) {
    return err(`applying its changes to the outs failed: ${(error as Error).message}`);
  }
  // After the commit: a kill here leaves only empty folders, which no hash sees.
  for (const r of removals.value) pruneEmptyFolders(dirname(r.abs), r.outRoot);
  return ok({ written: writes.map((w) => w.rel), removed: removals.value.map((r) => r.rel) });
}

interface Removal {
  /** Workspace-relative, for messages. */
  readonly rel: string;
  readonly abs: string;
  /** The out folder it is in: emptied folders are removed up to, not including, this. */
  readonly outRoot: string;
}

/** PIPE_REMOVALS's file: `{"<declared out>": ["<path inside it>", ...]}`; absent: nothing. */
function readRemovals(
  workspace: string,
  file: string,
  outsTmp: ReadonlyMap<string, string>,
): Result<Removal[], string> {
  if (!existsSync(file)) return ok([]);
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return err(`PIPE_REMOVALS holds no JSON: ${(error as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return err('PIPE_REMOVALS must hold {"<declared out>": ["<path inside it>", ...]}');
  const out: Removal[] = [];
  for (const [declared, paths] of Object.entries(doc)) {
    if (!outsTmp.has(declared))
      return err(`PIPE_REMOVALS names ${declared}, which is not one of the stage's outs`);
    if (!Array.isArray(paths) || paths.some((p) => typeof p !== 'string'))
      return err(`PIPE_REMOVALS: ${declared} must list paths (strings)`);
    for (const p of paths as string[]) {
      if (!isPlainRelative(p))
        return err(
          `PIPE_REMOVALS: "${p}" under ${declared} is not a plain relative path (no "..", ".", "" or leading "/")`,
        );
      const outRoot = join(workspace, declared);
      out.push({ rel: `${declared}/${p}`, abs: join(outRoot, p), outRoot });
    }
  }
  return ok(out);
}

function isPlainRelative(path: string): boolean {
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Every file (and symlink) under `root`, relative to it, in no particular order. */
function filesUnder(root: string): string[] {
  const found: string[] = [];
  const pending = [''];
  for (let prefix = pending.pop(); prefix !== undefined; prefix = pending.pop()) {
    for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) pending.push(rel);
      else found.push(rel);
    }
  }
  return found;
}

/** Removes `folder` and its parents while they are empty, stopping at `root`. */
function pruneEmptyFolders(folder: string, root: string): void {
  for (let at = folder; at !== root && at.startsWith(`${root}/`); at = dirname(at)) {
    try {
      rmdirSync(at);
    } catch {
      return; // not empty (or gone): its parents are not empty either
    }
  }
}
