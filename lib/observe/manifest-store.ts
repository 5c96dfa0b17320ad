// `.pipe/manifests/<sha>.json`: the per-file list behind a folder's or glob's manifest hash.
// The lock file keeps only the hash (so it stays small and diffs well); this store lets
// `pipe status` name the file inside a folder that changed, and `pipe push` list the files.
// Content-addressed: a manifest is written once under its own hash and never changed, so two
// builds can write the same one without harm. Missing manifests (fresh clone) are not an error:
// callers fall back to naming the folder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { manifestHash } from './hash.js';
import type { FileHash } from './types.js';
import type { Sha256Hex } from '../util/sha256.js';

export const MANIFEST_DIR = '.pipe/manifests';

/** A manifest: files relative to `base` (a folder; '' for a glob, whose paths are workspace-relative). */
export interface Manifest {
  readonly base: string;
  readonly files: readonly FileHash[];
}

function manifestPath(workspace: string, sha: Sha256Hex): string {
  return join(workspace, MANIFEST_DIR, `${sha}.json`);
}

/** Stores `files` (workspace-relative) under their manifest hash, unless already stored. */
export async function saveManifest(
  workspace: string,
  base: string,
  files: readonly FileHash[],
): Promise<Sha256Hex> {
  const sha = manifestHash(files, base);
  const path = manifestPath(workspace, sha);
  if (existsSync(path)) return sha;
  const prefix = base === '' ? '' : `${base}/`;
  const rows = files
    .map((f) => ({ path: f.path.slice(prefix.length), sha256: f.sha256, size: f.size }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  await writeFileAtomic(path, `${JSON.stringify({ version: 1, files: rows })}\n`);
  return sha;
}

/**
 * The files of a stored manifest, made workspace-relative again by prefixing `base`, sorted by
 * path; undefined when it is not stored or unreadable. Not re-hashed: it only serves to name
 * changed files in messages, and verifying 100,000 rows would cost more than the status itself.
 */
export function loadManifest(
  workspace: string,
  sha: Sha256Hex,
  base: string,
): FileHash[] | undefined {
  let rows: { path: string; sha256: Sha256Hex; size: number }[];
  try {
    rows = (
      JSON.parse(readFileSync(manifestPath(workspace, sha), 'utf8')) as { files: typeof rows }
    ).files;
  } catch {
    return undefined;
  }
  if (!Array.isArray(rows)) return undefined;
  const prefix = base === '' ? '' : `${base}/`;
  return rows.map((r) => ({ path: prefix + r.path, sha256: r.sha256, size: r.size }));
}
