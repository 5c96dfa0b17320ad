// Which parts clean builds, keeps and removes: all of them from scratch, or, on an incremental run,
// only those its changed uploads touch (stages/shared/clean-parts.ts says what ties uploads together).
import { nameKey, packByName, partId, partNumber, type PartFile } from './clean-parts.js';
import type { PartJob } from './clean-part-build.js';
import { PartLookup } from './clean-lookup.js';
import type { ManifestLines } from './manifest-lines.js';
import { uploadFormat, type ManifestFile } from './uploads.js';

export interface PartPlan {
  /** Parts whose uploads did not change: their files and records stay as they are. */
  readonly keep: PartLookup;
  readonly build: readonly PartJob[];
  /** Parts none of whose uploads is left. */
  readonly remove: readonly string[];
}

/** Every upload, in parts of about `budget` bytes (in path order). */
export function planFull(uploads: readonly ManifestFile[], budget: number): PartPlan {
  const groups = packByName(uploads, budget);
  const build = groups.map((members, i) => ({ id: partId(i), members }));
  return { keep: new PartLookup([]), build, remove: [] };
}

/**
 * The parts to rebuild after the uploads in `touched` (the runner's list of files under data/raw
 * added, modified or deleted since the parts were built) changed. A part is rebuilt when it holds
 * a touched upload (with its entry in `manifest` now, or without it when the manifest lists it no
 * more), or when a touched upload in no part has a name key that is one of its keys. The other
 * new uploads go into new parts (one, unless they pass the budget). Costs lookups per touched
 * upload, never a pass over every upload: an upload not touched is in the part it was in, with
 * the identity it had (the runner sees every file of data/raw that changed), and an added one is
 * in none (the parts hold the uploads of the data/raw they were built from).
 */
export function planIncremental(
  parts: readonly PartFile[],
  manifest: ManifestLines,
  touched: ReadonlySet<string>,
  budget: number,
  /** Those of `touched` the runner lists as added: no part holds them, nothing to search. */
  added: ReadonlySet<string> = new Set(),
): PartPlan {
  const lookup = new PartLookup(parts);
  const affected = new Set<string>();
  const outside: ManifestFile[] = [];
  for (const path of [...touched].sort()) {
    const holder = added.has(path) ? undefined : lookup.holderOf(path);
    if (holder !== undefined) affected.add(holder);
    else if (uploadFormat(path) !== undefined) {
      const now = manifest.find(path);
      if (now !== undefined) outside.push(now);
    }
  }
  const joining = new Map<string, ManifestFile[]>();
  const fresh: ManifestFile[] = [];
  for (const upload of outside) {
    const owner = lookup.ownerOf(nameKey(upload.path));
    if (owner === undefined) fresh.push(upload);
    else {
      affected.add(owner);
      joining.set(owner, [...(joining.get(owner) ?? []), upload]);
    }
  }
  const build: PartJob[] = [];
  const remove: string[] = [];
  for (const part of parts) {
    if (!affected.has(part.id)) continue;
    lookup.delete(part.id);
    const before = part.record();
    const members = [
      ...before.members.flatMap((m) => {
        if (!touched.has(m.path)) return [m];
        const now = manifest.find(m.path);
        return now === undefined ? [] : [now];
      }),
      ...(joining.get(part.id) ?? []),
    ].sort(byPath);
    if (members.length === 0) remove.push(part.id);
    // Keys the part held before are no other part's: only its new keys need looking for.
    else build.push({ id: part.id, members, knownKeys: new Set(before.keys) });
  }
  let next = Math.max(-1, ...parts.map((p) => partNumber(p.id))) + 1;
  // Their name keys were just looked for in the parts kept: the build does not look again.
  for (const members of packByName(fresh, budget))
    build.push({
      id: partId(next++),
      members,
      knownKeys: new Set(members.map((m) => nameKey(m.path))),
    });
  return { keep: lookup, build, remove };
}

export function byPath(a: ManifestFile, b: ManifestFile): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
