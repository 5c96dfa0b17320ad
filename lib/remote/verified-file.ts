// Content checks on the way in and out of a remote: bytes are hashed as they stream, and a file
// lands under its final name only after its sha256 (and size) matched. Shared by both stores.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { err, ok, type Result } from '../util/result.js';
import type { Sha256Hex } from '../util/sha256.js';

/** Raised inside a stream pipeline when the bytes are not what their name says. */
export class ContentMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`content mismatch: expected ${expected}, got ${actual}`);
  }
}

/**
 * A pass-through that fails in its flush, before the end of the data reaches the sink, when the
 * bytes are not `sha` (and `size`, if given). An upload sink therefore never sees a complete body
 * and the service never finishes the object; a file sink is left as a temp file to remove.
 */
export function verifyingStream(sha: Sha256Hex, size?: number): Transform {
  const hash = createHash('sha256');
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      // Past `size` the bytes cannot be right: stop at once (at size + 1 bytes), never reading on.
      // An object that is a symlink to /dev/zero would otherwise stream until the disk is full.
      if (size !== undefined && seen + chunk.length > size) {
        seen = size + 1;
        return callback(new ContentMismatch(`${size} bytes`, `more: stopped at byte ${size + 1}`));
      }
      hash.update(chunk);
      seen += chunk.length;
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      const actual = hash.digest('hex');
      if (actual !== sha) return callback(new ContentMismatch(`sha256 ${sha}`, `sha256 ${actual}`));
      if (size !== undefined && seen !== size)
        return callback(new ContentMismatch(`${size} bytes`, `${seen} bytes`));
      callback();
    },
  });
}

/** A temp name in the same folder as `finalPath`, so rename/link stays on one filesystem. */
export function tempPathBeside(finalPath: string): string {
  return join(
    dirname(finalPath),
    `.${basename(finalPath)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/** The bytes written, or the mismatch that kept the file from landing. */
export type VerifiedWrite = Result<number, ContentMismatch>;

/**
 * Streams `source` into a temp file beside `finalPath` through verifyingStream, then hands the
 * temp path to `commit` (rename, or link for create-only). On a mismatch, or any error, the temp
 * file is removed and `finalPath` is untouched. Other errors are rethrown for the caller to map.
 * `size`, when known (a download named by a manifest), caps the stream: one byte more fails it.
 */
export async function writeVerified(
  source: Readable,
  sha: Sha256Hex,
  finalPath: string,
  commit: (tempPath: string) => Promise<void> = (temp) => rename(temp, finalPath),
  maxSize?: number,
): Promise<VerifiedWrite> {
  await mkdir(dirname(finalPath), { recursive: true });
  const temp = tempPathBeside(finalPath);
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      source,
      verifyingStream(sha, maxSize),
      counter,
      createWriteStream(temp, { flags: 'wx' }),
    );
    await commit(temp);
    return ok(size);
  } catch (error) {
    if (error instanceof ContentMismatch) return err(error);
    throw error;
  } finally {
    await rm(temp, { force: true });
  }
}

/** A manifest larger than this is refused unread (one for 241,605 files is ~60 MB). */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;
/** A ref holds one version ID. */
export const MAX_REF_BYTES = 64 * 1024;

/** What a capped read refused: it stopped at `max + 1` bytes. */
export class TooLarge extends Error {
  constructor(readonly max: number) {
    super(`more than ${max} bytes`);
  }
}

/**
 * The text of `source`, read whole, but never more than `max` bytes: a manifest or ref that is a
 * symlink to /dev/zero (or just huge) throws TooLarge instead of exhausting memory.
 */
export async function readCapped(source: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of source) {
    seen += (chunk as Buffer).length;
    if (seen > max) {
      source.destroy();
      throw new TooLarge(max);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
