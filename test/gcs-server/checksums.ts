// The two checksums GCS reports, computed independently of the client library (which the tests
// exercise, so the fixture must not borrow its code): CRC32C (Castagnoli, reflected polynomial
// 0x82F63B78, RFC 3720 appendix B.4) as base64 of the 4 big-endian bytes, and MD5 as base64.
import { createHash } from 'node:crypto';

const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Incremental checksums over streamed chunks. */
export class Checksums {
  #crc = 0xffffffff;
  readonly #md5 = createHash('md5');
  size = 0;

  update(chunk: Buffer): void {
    let crc = this.#crc;
    for (let i = 0; i < chunk.length; i++) crc = TABLE[(crc ^ chunk[i]!) & 0xff]! ^ (crc >>> 8);
    this.#crc = crc;
    this.#md5.update(chunk);
    this.size += chunk.length;
  }

  /** { crc32c, md5Hash } as GCS writes them in metadata and in x-goog-hash. */
  digest(): { crc32c: string; md5Hash: string } {
    const value = Buffer.alloc(4);
    value.writeUInt32BE((this.#crc ^ 0xffffffff) >>> 0);
    return { crc32c: value.toString('base64'), md5Hash: this.#md5.digest('base64') };
  }
}
