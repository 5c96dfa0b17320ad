// A bucket prefix's listing as a folder manifest: each object becomes a file entry whose identity
// stands in for a content hash, so the lock file, .pipe/manifests and plan.ts's file-level diff
// treat a bucket like any folder. No object is read: GCS gives every replacement a new
// generation, and md5 (crc32c for composite objects, which have no md5) says what the bytes are.
import { createHash } from 'node:crypto';
import type { ListedObject } from './gcs-listing.js';
import { manifestHash, sum } from './hash.js';
import type { FileHash, PathHash } from './types.js';
import type { Sha256Hex } from '../util/sha256.js';

/**
 * sha256 of `gcs-object <generation> md5:<base64>` (or `crc32c:<base64>`). Tagged so it can never
 * equal a file's content hash: a source switched from a folder to a bucket reads as changed.
 */
export function objectIdentity(o: ListedObject): Sha256Hex {
  const sum = o.md5 !== undefined ? `md5:${o.md5}` : `crc32c:${o.crc32c ?? ''}`;
  return createHash('sha256')
    .update(`gcs-object ${o.generation} ${sum}`)
    .digest('hex') as Sha256Hex;
}

/** `url` (`gs://bucket/prefix`) as a folder whose files are `<url>/<object path>`, sorted. */
export function bucketHash(
  url: string,
  listing: readonly ListedObject[],
): Exclude<PathHash, { kind: 'missing' }> {
  const files: FileHash[] = listing.map((o) => ({
    path: `${url}/${o.path}`,
    sha256: objectIdentity(o),
    size: o.size,
  }));
  return { kind: 'dir', path: url, sha256: manifestHash(files, url), size: sum(files), files };
}
