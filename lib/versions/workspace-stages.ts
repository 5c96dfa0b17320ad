// The workspace as one side of a version diff: every stage pipeline.lock records, with its files
// as the last build wrote them (file outs from the lock itself, folder and glob outs from the
// per-file lists in .pipe/manifests/). Nothing is re-hashed: this is what a `pipe push` would
// publish if the workspace is fresh, and `pipe status` is the command that checks freshness.
import type { FileHash } from '../observe/types.js';
import type { LockFile } from '../build/lockfile.js';
import { loadManifest } from '../observe/manifest-store.js';
import { byPath, isGlob } from '../util/paths.js';
import { err, ok, type Result } from '../util/result.js';
import type { StageSet } from './diff.js';

/** The stages, or which out's file list is missing and the command that records it. */
export type WorkspaceStages = Result<StageSet, string>;

/** `skip`: stages left out (the report stage leaves itself out: its outputs are being written). */
export function workspaceStages(
  root: string,
  lock: LockFile,
  skip: readonly string[] = [],
): WorkspaceStages {
  const stages: Record<string, StageSet[string]> = {};
  for (const [name, entry] of Object.entries(lock.stages)) {
    if (skip.includes(name)) continue;
    const files: FileHash[] = [];
    for (const [out, locked] of Object.entries(entry.outs)) {
      if (locked.files === undefined) {
        files.push({ path: out, sha256: locked.sha256, size: locked.size });
        continue;
      }
      // A folder's list is stored relative to the folder, a glob's relative to the workspace.
      const listed = loadManifest(root, locked.sha256, isGlob(out) ? '' : out);
      if (listed === undefined) {
        return err(
          `the file list of ${out} (stage ${name}) is not in .pipe/manifests; rebuild it with \`npx pipe build --force-stage ${name}\` to record it`,
        );
      }
      for (const f of listed) files.push(f);
    }
    files.sort(byPath);
    stages[name] = { lock: entry, files };
  }
  return ok(stages);
}
