// The hash of one declared dep or out: a file, a folder (big ones on worker threads,
// hash-folder.ts) or a glob (its matches), or `missing`.
import { type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { fastGlob, isGlob } from '../util/paths.js';
import { hashFiles } from './hash-files.js';
import { listFolder, manifestHash, sum } from './hash.js';
import {
  newHashStats,
  noHashCache,
  WORKER_WALK_MIN,
  type HashCache,
  type HashStats,
  type PathHash,
} from './types.js';

export async function hashPath(
  workspace: string,
  declared: string,
  cache: HashCache = noHashCache,
  stats: HashStats = newHashStats(),
): Promise<PathHash> {
  if (isGlob(declared)) {
    const matches = (
      await fastGlob()(declared, { cwd: workspace, onlyFiles: true, dot: false })
    ).sort();
    const files = await hashFiles(workspace, matches, cache, stats);
    return {
      kind: 'glob',
      path: declared,
      sha256: manifestHash(files, ''),
      size: sum(files),
      files,
    };
  }
  let st: Stats;
  try {
    st = statSync(join(workspace, declared));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'missing', path: declared };
    throw error;
  }
  if (st.isDirectory()) {
    // Big folders on worker threads (hash-folder.ts): known big from their folder entry (then even
    // the walk runs there), or found big by walking here.
    // A folder found big by walking here is walked again there, in parts: once, on its first look.
    const big = async () =>
      (await import('./hash-folder.js')).hashBigFolder(workspace, declared, cache, stats);
    if ((cache.folder?.(declared)?.files ?? 0) >= WORKER_WALK_MIN) return big();
    const rels = listFolder(workspace, declared);
    if (rels.length >= WORKER_WALK_MIN && cache.folder !== undefined) return big();
    const files = await hashFiles(workspace, rels, cache, stats);
    return {
      kind: 'dir',
      path: declared,
      sha256: manifestHash(files, declared),
      size: sum(files),
      files,
    };
  }
  const [file] = await hashFiles(workspace, [declared], cache, stats);
  return { kind: 'file', path: declared, sha256: file!.sha256, size: file!.size };
}
