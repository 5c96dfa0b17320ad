// A bucket prefix's listing as a folder manifest: each object becomes a file entry whose identity
// stands in for a content hash, so the lock file, .pipe/manifests and plan.ts's file-level diff
// treat a bucket like any folder. No object is read: GCS gives every replacement a new
// generation, and md5 (crc32c for composite objects, which have no md5) says what the bytes are.
//
// `.pipe/buckets` remembers, per URL, a digest of the listing (every object's path, generation,
// checksums and size, hashed as one stream) and the manifest hash it gave. A no-op status at
// 241,605 objects then hashes the listing once instead of making an identity per object (one
// sha256 call each: seconds on a loaded machine); the per-object entries are made only when read
// (a changed listing's file-level diff, or recording a build). Plain text, a cache like the others:
//   line 1:  `pipe-buckets 1`
//   then:    `<url>\t<listing digest>\t<manifest sha256>\t<size>\t<objects>`
import * as crypto from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readCacheLines } from '../util/cache-file.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { ListedObject } from './gcs-listing.js';
import { manifestHash, sum } from './hash.js';
import type { FileHash, PathHash } from './types.js';

export const BUCKETS_FILE = '.pipe/buckets';
const HEADER = 'pipe-buckets 1';

/** Node >= 20.12 hashes a small string in one call, about twice as fast as createHash. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;
const sha256Hex = (text: string): Sha256Hex =>
  (oneShot !== undefined
    ? oneShot('sha256', text)
    : crypto.createHash('sha256').update(text).digest('hex')) as Sha256Hex;

/**
 * sha256 of `gcs-object <generation> md5:<base64>` (or `crc32c:<base64>`). Tagged so it can never
 * equal a file's content hash: a source switched from a folder to a bucket reads as changed.
 */
export function objectIdentity(o: ListedObject): Sha256Hex {
  const check = o.md5 !== undefined ? `md5:${o.md5}` : `crc32c:${o.crc32c ?? ''}`;
  return sha256Hex(`gcs-object ${o.generation} ${check}`);
}

/** The per-object entries: `<url>/<object path>`, sorted as the listing is. */
export function bucketFiles(url: string, listing: readonly ListedObject[]): FileHash[] {
  return listing.map((o) => ({
    path: `${url}/${o.path}`,
    sha256: objectIdentity(o),
    size: o.size,
  }));
}

/** One digest over everything an object's entry is made of, in listing order. */
function listingDigest(listing: readonly ListedObject[]): string {
  const hash = crypto.createHash('sha256');
  let chunk = '';
  for (const o of listing) {
    chunk += `${o.path}\t${o.generation}\t${o.md5 ?? ''}\t${o.crc32c ?? ''}\t${o.size}\n`;
    if (chunk.length > 1 << 16) {
      hash.update(chunk);
      chunk = '';
    }
  }
  return hash.update(chunk).digest('hex');
}

/**
 * `url` (`gs://bucket/prefix`) as a folder whose files are `<url>/<object path>`. With `workspace`,
 * `.pipe/buckets` answers for an unchanged listing and learns a changed one.
 */
export async function bucketHash(
  url: string,
  listing: readonly ListedObject[],
  workspace?: string,
): Promise<Exclude<PathHash, { kind: 'missing' }>> {
  const digest = listingDigest(listing);
  const known = workspace === undefined ? undefined : readBuckets(workspace);
  const hit = known?.get(url);
  if (hit !== undefined && hit.digest === digest && hit.objects === listing.length) {
    let files: FileHash[] | undefined;
    return {
      kind: 'dir',
      path: url,
      sha256: hit.sha256,
      size: hit.size,
      get files() {
        files ??= bucketFiles(url, listing);
        return files;
      },
    };
  }
  const files = bucketFiles(url, listing);
  const sha256 = manifestHash(files, url);
  const size = sum(files);
  if (workspace !== undefined && known !== undefined) {
    known.set(url, { digest, sha256, size, objects: files.length });
    const lines = [...known].map(
      ([u, e]) => `${u}\t${e.digest}\t${e.sha256}\t${e.size}\t${e.objects}`,
    );
    // Only a cache: a write that fails costs the next status the per-object identities.
    await writeFileAtomic(
      join(workspace, BUCKETS_FILE),
      `${[HEADER, ...lines].join('\n')}\n`,
    ).catch(() => {});
  }
  return { kind: 'dir', path: url, sha256, size, files };
}

interface BucketEntry {
  readonly digest: string;
  readonly sha256: Sha256Hex;
  readonly size: number;
  readonly objects: number;
}

function readBuckets(workspace: string): Map<string, BucketEntry> {
  const entries = new Map<string, BucketEntry>();
  for (const line of readCacheLines(join(workspace, BUCKETS_FILE), HEADER) ?? []) {
    const [url, digest, sha256, size, objects] = line.split('\t');
    if (objects === undefined || !/^[0-9a-f]{64}$/.test(sha256!)) continue;
    entries.set(url!, {
      digest: digest!,
      sha256: sha256 as Sha256Hex,
      size: Number(size),
      objects: Number(objects),
    });
  }
  return entries;
}
