// The outs of an `incremental: changes` run after out-changes.ts applied it, computed from what
// they were before the run and what the run changed, instead of walking them again:
//
//   data/raw as observed before the run (241,605 files, their hashes)
//     - the files the run removed  + the files it wrote (statted and hashed here: a few)
//     = data/raw now: the same file list and manifest hash a walk would give
//
// made from the stored manifest's bytes, the changed lines cut and put (manifest-text.ts), when
// it can be; else from the file list.
//
// WHY: the walk is a readdir and a stat of every file, and the manifest lines copied again: about
// 1 s at 241,605 uploads, 5 s on a loaded machine, for one new upload. The runner is the only
// writer of a stage's outs during a build (the stage writes to its temp paths), so the outs
// before the run plus the changes it applied are the outs now. What it would miss, someone else
// editing data/raw during the build, the next status sees: it walks, and its hash is not the lock's.
import { statSync } from 'node:fs';
import { fileCount, type FileHash, type HashCache, type PathHash } from '../observe/types.js';
import { hashFile, manifestHash, sum } from '../observe/hash.js';
import { spliceManifest } from '../observe/manifest-text.js';
import { rememberManifestDiff } from '../observe/manifest-diff.js';
import { readStoredManifest, saveManifestText } from '../observe/manifest-store.js';
import { clockBeforeStats } from '../observe/stat-clock.js';
import { folderFromText } from '../observe/hash-folder.js';
import { mapConcurrent } from '../util/worker-pool.js';
import type { AppliedChanges } from './out-changes.js';

/** Written files read and hashed at once: enough to keep the thread pool's reads busy. */
const HASH_CONCURRENCY = 16;

/**
 * Each declared out (`outs`) as it is after `applied`, from `before` (its observation before the
 * run); undefined when one cannot be made so (an out that was not a folder of known files, or a
 * written path that is not a regular file): then the caller walks them.
 */
export async function outsAfterChanges(
  workspace: string,
  outs: readonly string[],
  before: Readonly<Record<string, PathHash>>,
  applied: AppliedChanges,
  cache: HashCache,
): Promise<Record<string, PathHash> | undefined> {
  const result: Record<string, PathHash> = Object.create(null);
  for (const declared of outs) {
    const was = before[declared];
    if (was === undefined || was.kind !== 'dir') return undefined;
    const inside = (rel: string) => rel.startsWith(`${declared}/`);
    const removed = applied.removed.filter(inside);
    const written = applied.written.filter(inside).sort();
    if (removed.length === 0 && written.length === 0) {
      result[declared] = was;
      continue;
    }
    const statTimeMs = clockBeforeStats(workspace);
    const stats = written.map((path) =>
      statSync(`${workspace}/${path}`, { throwIfNoEntry: false }),
    );
    if (stats.some((st) => st === undefined || !st.isFile())) return undefined;
    // A written file that is a hard link of one hashed moments before (download links uploads)
    // is looked up; the others are read and hashed, several at a time.
    const fresh = await mapConcurrent(written, HASH_CONCURRENCY, async (path, i) => {
      const abs = `${workspace}/${path}`;
      const st = stats[i]!;
      const stamp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
      let sha256 = cache.lookup(abs, stamp);
      if (sha256 === undefined) {
        sha256 = await hashFile(abs, st.size);
        cache.remember(abs, stamp, sha256, statTimeMs);
      }
      return { path, sha256, size: st.size };
    });
    const spliced = await splicedOut(workspace, declared, was, removed, fresh);
    if (spliced !== undefined) {
      result[declared] = spliced;
      continue;
    }
    // A removal takes the file, or everything under a removed folder; a written path replaces
    // the file there.
    const gone = new Set([...written, ...removed]);
    const kept = was.files.filter((f) => !goneOrUnderGone(f.path, gone));
    const files = mergeByPath(kept, fresh);
    result[declared] = {
      kind: 'dir',
      path: declared,
      sha256: manifestHash(files, declared),
      size: sum(files),
      files,
    };
  }
  return result;
}

/**
 * The out's new hash from its stored manifest's bytes, with the removed and written files' lines
 * cut and put (observe/manifest-text.ts), and that manifest stored; its file list is made only
 * if someone reads it. Undefined when the old manifest is not stored or cannot be spliced.
 */
async function splicedOut(
  workspace: string,
  declared: string,
  was: Extract<PathHash, { readonly files: readonly FileHash[] }>,
  removed: readonly string[],
  fresh: readonly FileHash[],
): Promise<PathHash | undefined> {
  const text = readStoredManifest(workspace, was.sha256);
  if (text === undefined) return undefined;
  const cut = declared.length + 1;
  const spliced = spliceManifest(
    text,
    { size: was.size, count: fileCount(was) },
    removed.map((p) => p.slice(cut)),
    fresh.map((f) => ({ rel: f.path.slice(cut), sha256: f.sha256, size: f.size })),
  );
  if (spliced === undefined) return undefined;
  await saveManifestText(workspace, spliced.sha256, spliced.pieces);
  // The next stage's changes in this out are these: no diff of the two manifests to make.
  const prefix = `${declared}/`;
  const changes = spliced.changes.map((c) => ({ change: c.change, file: prefix + c.rel }));
  rememberManifestDiff(workspace, was.sha256, spliced.sha256, declared, changes);
  return folderFromText(declared, spliced, spliced.pieces);
}

/** Whether `path`, or a folder it is in, is in `gone`. */
function goneOrUnderGone(path: string, gone: ReadonlySet<string>): boolean {
  if (gone.has(path)) return true;
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1))
    if (gone.has(path.slice(0, slash))) return true;
  return false;
}

/** Two lists each sorted by path, as one (what a walk of the folder lists). */
function mergeByPath(a: readonly FileHash[], b: readonly FileHash[]): FileHash[] {
  const out: FileHash[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j === b.length || (i < a.length && a[i]!.path < b[j]!.path)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
