// A very big folder (tens of thousands of files the state cache already knows) is walked and
// statted on worker threads (hash-threads.ts) while this thread looks each batch of stamps up in
// the state cache as it arrives: at 241,605 uploads a no-op build's walk and stats cost ~1 s on
// one thread, more than its whole budget. Same answer as hash.ts hashFiles(listFolder(...)).
import { hashMisses, type FileHash, type HashCache, type HashStats, type Miss } from './hash.js';
import { listFolderOnWorker, statOnWorkers } from './hash-threads.js';

export async function hashFolderOnWorkers(workspace: string, rel: string, cache: HashCache, stats: HashStats): Promise<FileHash[]> {
  const rels = await listFolderOnWorker(workspace, rel);
  const out: FileHash[] = new Array<FileHash>(rels.length);
  const misses: Miss[] = [];
  const statTimeMs = Date.now();
  await statOnWorkers(workspace, rels, (start, stamps) => {
    for (let k = 0; k < stamps.length / 3; k++) {
      const index = start + k;
      const path = rels[index]!;
      const abs = `${workspace}/${path}`;
      const stamp = { size: stamps[3 * k]!, mtimeMs: stamps[3 * k + 1]!, ino: stamps[3 * k + 2]! };
      stats.statted++;
      const known = cache.lookup(abs, stamp);
      if (known !== undefined) out[index] = { path, sha256: known, size: stamp.size };
      else misses.push({ index, abs, stamp });
    }
  });
  await hashMisses(rels, misses, out, cache, stats, statTimeMs);
  return out;
}
