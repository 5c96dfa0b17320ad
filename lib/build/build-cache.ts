// What the runner asks of a build cache before it runs a stale stage: "does anyone hold the outputs
// of this fingerprint?". The runner owns the question and when to apply an answer; the remote
// build cache (versions/remote-cache.ts) is one implementation, wired in by the build command.
import type { Fingerprint } from './fingerprint.js';

export interface CacheHit {
  readonly kind: 'hit';
  readonly version: string;
  readonly pushedBy: string;
  /** Whose key signed the version (the cache reuses only versions a trusted key signed). */
  readonly signedBy: string;
  readonly metrics?: Readonly<Record<string, unknown>>;
  /** Downloads (verified) and puts the outs in place; the caller then records the lock entry. */
  apply(): Promise<{ ok: true; files: number; bytes: number } | { ok: false; reason: string }>;
}

export type CacheAnswer =
  | CacheHit
  | { readonly kind: 'miss' }
  | { readonly kind: 'unusable'; readonly reason: string };

export type CacheLookup = (stage: string, fingerprint: Fingerprint) => Promise<CacheAnswer>;
