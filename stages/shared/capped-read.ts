// Reading an upload no further than a cap: a file's bytes, and a gzip member's inflated bytes.
// A 200 MB upload or a 1.5 MB gzip bomb (1.5 GB inflated) must cost clean no more than the cap
// in memory, so both stop at the cap instead of reading everything and then measuring it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type Capped =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly tooLarge: true; readonly size: number | null };

/**
 * The file's bytes if it holds at most `max`; otherwise `size` (the size it claims, or null when
 * it held more than it claimed). Never reads more than `max` + 1 bytes.
 */
export function readCapped(path: string, max: number): Capped {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > max) return { ok: false, tooLarge: true, size };
    const bytes = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, bytes, got, size - got, null);
      if (n === 0) break;
      got += n;
    }
    // A file that grew since fstat (or lies about its size) is measured by reading one byte more.
    if (readSync(fd, Buffer.alloc(1), 0, 1, null) > 0)
      return { ok: false, tooLarge: true, size: null };
    return { ok: true, bytes: got === size ? bytes : bytes.subarray(0, got) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Gunzipped bytes, or tooLarge once inflating passes `max`: zlib's maxOutputLength is checked
 * after each chunk it inflates (16 KiB), so a bomb is stopped there, not after it has filled memory.
 * Other gzip errors are thrown.
 */
export function gunzipCapped(bytes: Buffer, max: number): Capped {
  try {
    return { ok: true, bytes: gunzipSync(bytes, { maxOutputLength: max }) };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      return { ok: false, tooLarge: true, size: null };
    throw error;
  }
}
