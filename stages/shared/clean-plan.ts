// Which parts clean builds, keeps and removes: all of them from scratch, or, on an incremental run,
// only those its changed uploads touch (stages/shared/clean-parts.ts says what ties uploads together).
import { nameKey, packByName, partId, partNumber, type PartRecord } from './clean-parts.js';
import type { PartJob } from './clean-part-build.js';
import { sameIdentity, type ManifestFile } from './uploads.js';

export interface PartPlan {
  /** Parts whose uploads did not change: their files and records stay as they are. */
  readonly keep: readonly PartRecord[];
  readonly build: readonly PartJob[];
  /** Parts none of whose uploads is left. */
  readonly remove: readonly string[];
}

/** Every upload, in parts of about `budget` bytes (in path order). */
export function planFull(uploads: readonly ManifestFile[], budget: number): PartPlan {
  const groups = packByName(uploads, budget);
  return { keep: [], build: groups.map((members, i) => ({ id: partId(i), members })), remove: [] };
}

/**
 * The parts to rebuild after `uploads` (the manifest's uploads now) replaced the uploads the
 * parts were built from. A part is rebuilt when one of its uploads is gone, has another identity in
 * the manifest, or is in `touched` (the runner's list of changed files under data/raw, for a file
 * changed without its manifest entry changing); or when an upload that is not in any part has a
 * name key one of its keys. The other new uploads go into new parts (one, unless they pass the
 * budget). The runner's list and the manifest are both read, so a change either one shows is seen.
 */
export function planIncremental(
  parts: readonly PartRecord[],
  uploads: readonly ManifestFile[],
  touched: ReadonlySet<string>,
  budget: number,
): PartPlan {
  // At 241,605 uploads this runs on every incremental clean: one map of the uploads and a flag
  // per upload, and a key lookup only for the few uploads in no part (a map of every part's keys
  // and a set of every member cost ~0.3 s more).
  const now = new Map<string, number>();
  for (const [i, u] of uploads.entries()) now.set(u.path, i);
  const isMember = new Uint8Array(uploads.length);
  const affected = new Set<string>();
  for (const part of parts) {
    for (const m of part.members) {
      const i = now.get(m.path);
      if (i !== undefined) isMember[i] = 1;
      if (!sameIdentity(i === undefined ? NOT_LISTED : uploads[i]!, m) || touched.has(m.path))
        affected.add(part.id);
    }
  }
  const outside = uploads.filter((_, i) => isMember[i] === 0);
  const wanted = new Set(outside.map((u) => nameKey(u.path)));
  const owner = new Map<string, string>();
  if (wanted.size > 0)
    for (const part of parts)
      for (const key of part.keys) if (wanted.has(key)) owner.set(key, part.id);
  const joining = new Map<string, ManifestFile[]>();
  const fresh: ManifestFile[] = [];
  for (const upload of outside) {
    const id = owner.get(nameKey(upload.path));
    if (id === undefined) fresh.push(upload);
    else {
      affected.add(id);
      joining.set(id, [...(joining.get(id) ?? []), upload]);
    }
  }
  const keep: PartRecord[] = [];
  const build: PartJob[] = [];
  const remove: string[] = [];
  for (const part of parts) {
    if (!affected.has(part.id)) {
      keep.push(part);
      continue;
    }
    const members = [
      ...part.members.flatMap((m) => {
        const i = now.get(m.path);
        return i === undefined ? [] : [uploads[i]!];
      }),
      ...(joining.get(part.id) ?? []),
    ].sort(byPath);
    if (members.length === 0) remove.push(part.id);
    else build.push({ id: part.id, members });
  }
  let next = Math.max(-1, ...parts.map((p) => partNumber(p.id))) + 1;
  for (const members of packByName(fresh, budget)) build.push({ id: partId(next++), members });
  return { keep, build, remove };
}

const NOT_LISTED: ManifestFile = { path: '', size: -1 };

export function byPath(a: ManifestFile, b: ManifestFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
