// The content-hash type every layer shares, and the hash of a string. A leaf: imports nothing of
// ours, so pure modules (graph, plan, fingerprint) can name a hash without loading the hasher.
import { createHash } from 'node:crypto';

/** Lower-case hex sha256 of some content. Branded so it never mixes with other strings. */
export type Sha256Hex = string & { readonly __brand: 'Sha256Hex' };

export function sha256OfString(text: string): Sha256Hex {
  return createHash('sha256').update(text).digest('hex') as Sha256Hex;
}
