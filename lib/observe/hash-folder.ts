// A big folder (WORKER_WALK_MIN files or more) is walked and statted on worker threads
// (hash-threads.ts), the way git's preloadIndex spreads lstat over threads: at 241,605 uploads a
// no-op build's walk and stats cost ~1 s on one thread, its whole budget.
//
//   with a folder entry: ONE worker lists, stats and digests the folder and answers the digest
//             alone when it equals the entry's: the stored hash, no path or stamp crossed threads
//             (the no-op case; two big folders run on two workers at once). When it differs the
//             worker sends its listing and stamp batches too, and we go on at "each file's stamp
//             looked up" below, without a second walk.
//   without one (or with a listing already walked):
//   worker: list ──▶ workers: stat in batches of STAT_BATCH, each with its digest of the stamps
//   here:   stamps digest = sha256(`<files>\n` + batch digests joined by \n)
//           == the folder entry's (folder-stamps.ts)?  yes: the stored hash; the file list only
//                                                       if someone asks (the manifest store)
//                                                  no: each file's stamp looked up in the state
//                                                       cache, misses hashed, entry recorded
// Either way the answer equals hash.ts hashFiles(listFolder(...)).
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hashMisses } from './hash-files.js';
import { listFolder, manifestHash, sum } from './hash.js';
import {
  noHashCache,
  STAMP_FIELDS,
  type FileHash,
  type FileStamp,
  type HashCache,
  type HashStats,
  type Miss,
  type PathHash,
} from './types.js';
import type { Sha256Hex } from '../util/sha256.js';
import {
  digestFolderOnWorker,
  listFolderOnWorker,
  STAT_BATCH,
  statOnWorkers,
} from './hash-threads.js';
import type { StampBatch } from './hash-worker.js';
import { stampsDigest, type FolderEntry } from './folder-stamps.js';
import { loadManifest, saveManifest } from './manifest-store.js';

type DirHash = Extract<PathHash, { readonly files: readonly FileHash[] }>;

/** `rel` hashed on the workers; `listed`: its listing, if the caller already walked it. */
export async function hashBigFolder(
  workspace: string,
  rel: string,
  cache: HashCache,
  stats: HashStats,
  listed?: readonly string[],
): Promise<DirHash> {
  const known = cache.folder?.(rel);
  const statTimeMs = Date.now();
  let rels = listed;
  let batches: StampBatch[] = [];
  if (known !== undefined && listed === undefined) {
    // With an entry, one worker walks, stats and digests the folder, answering the digest alone
    // when it matches (a no-op's whole job) and the listing and stamps when it does not.
    const quick = await digestFolderOnWorker(workspace, rel, known.stamps);
    stats.statted += quick.files;
    if (quick.changed === undefined) return storedFolder(workspace, rel, known, cache);
    rels = quick.changed.rels;
    batches = [...quick.changed.batches];
  } else {
    rels ??= await listFolderOnWorker(workspace, rel);
    const listing = rels;
    await statOnWorkers(
      workspace,
      listing,
      (start, batch) => (batches[start / STAT_BATCH] = batch),
    );
    stats.statted += listing.length;
  }
  let newest = -Infinity;
  for (const b of batches) newest = Math.max(newest, b.newestMtimeMs);
  const stamps = stampsDigest(
    rels.length,
    batches.map((b) => b.digest),
  );
  if (known !== undefined && known.stamps === stamps)
    return storedFolder(workspace, rel, known, cache);

  const out: FileHash[] = new Array<FileHash>(rels.length);
  const misses: Miss[] = [];
  batches.forEach((batch, b) => {
    for (let k = 0; k < batch.stamps.length / STAMP_FIELDS; k++) {
      const index = b * STAT_BATCH + k;
      const path = rels[index]!;
      const abs = `${workspace}/${path}`;
      const at = STAMP_FIELDS * k;
      const stamp = {
        size: batch.stamps[at]!,
        mtimeMs: batch.stamps[at + 1]!,
        ino: batch.stamps[at + 2]!,
        dev: batch.stamps[at + 3]!,
      };
      const sha = cache.lookup(abs, stamp);
      if (sha !== undefined) out[index] = { path, sha256: sha, size: stamp.size };
      else misses.push({ index, abs, stamp });
    }
  });
  await hashMisses(rels, misses, out, cache, stats, statTimeMs);
  const entry: FolderEntry = {
    stamps,
    sha256: manifestHash(out, rel),
    size: sum(out),
    files: out.length,
  };
  // A kept entry lets the next run answer from the digest alone; its file list goes to the manifest
  // store too, so naming a changed file then (plan.ts) reads the list instead of walking the
  // folder again on this thread (storedFolder's fallback). A build recording this folder would
  // store the same list under the same hash: a status run adds nothing a build would not.
  if (cache.rememberFolder?.(rel, entry, newest, statTimeMs) === true)
    await saveManifest(workspace, rel, out);
  return { kind: 'dir' as const, path: rel, sha256: entry.sha256, size: entry.size, files: out };
}

/**
 * The folder as its entry recorded it. Its file list is not needed to judge freshness, so it is
 * made only when read (a stage that ran records its deps' manifests, push lists files): from the
 * manifest store (checked against the hash), or else by walking the folder again.
 */
export function storedFolder(
  workspace: string,
  rel: string,
  known: { readonly sha256: Sha256Hex; readonly size: number },
  cache: HashCache = noHashCache,
): DirHash {
  const h: DirHash = {
    kind: 'dir' as const,
    path: rel,
    sha256: known.sha256,
    size: known.size,
    get files(): readonly FileHash[] {
      // loadManifest checks the list against its hash.
      return loadManifest(workspace, known.sha256, rel) ?? hashFolderSync(workspace, rel, cache);
    },
  };
  stored.add(h);
  return h;
}

const stored = new WeakSet<PathHash>();

/** Whether `h` came from storedFolder (reading its `files` costs a load or a walk). */
export function isStoredFolder(h: PathHash): boolean {
  return stored.has(h);
}

/** hashFiles(listFolder(...)) without awaiting: the rare fallback of a getter. */
function hashFolderSync(workspace: string, rel: string, cache: HashCache): FileHash[] {
  const statTimeMs = Date.now();
  return listFolder(workspace, rel).map((path) => {
    const abs = `${workspace}/${path}`;
    const st = statSync(abs);
    const stamp: FileStamp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
    let sha = cache.lookup(abs, stamp);
    if (sha === undefined) {
      sha = createHash('sha256').update(readFileSync(abs)).digest('hex') as Sha256Hex;
      cache.remember(abs, stamp, sha, statTimeMs);
    }
    return { path, sha256: sha, size: stamp.size };
  });
}
