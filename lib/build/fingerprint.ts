// The stage fingerprint: one sha256 over everything that can change a stage's outputs. Pure: the
// caller hashes files (hash.ts) and reads params/env; this module only combines the answers.
//
// Two stages with equal fingerprints given equal tools produce equal outputs, so a stage whose
// fingerprint matches its lock entry (and whose outs are untouched) need not run. Because deps
// enter by CONTENT hash, a re-run upstream stage that produced identical bytes leaves this
// fingerprint unchanged: that is early cutoff, with no extra machinery.
import { createHash } from 'node:crypto';
import type { Sha256Hex } from '../util/sha256.js';

/** A stage fingerprint (lower-case hex sha256). Branded: never compare it with a file hash. */
export type Fingerprint = string & { readonly __brand: 'Fingerprint' };

/**
 * Bumped whenever the meaning of a fingerprint field or of the runner's contract with stages
 * changes, so every stage built by an older pipe is rebuilt rather than trusted.
 */
export const FINGERPRINT_FORMAT = 1;

/** Everything a fingerprint is made of. Each field says why it is there. */
export interface FingerprintInput {
  /**
   * The stage's declared shape. `deps` and `outs` as written: moving an out changes what the
   * stage writes even if no byte of input changes; a dep glob rewritten to match the same files
   * still means a different stage. `params` and `env` names are implied by the maps below.
   * `desc` is NOT here: a description cannot change an output.
   */
  readonly definition: {
    readonly cmd: string;
    readonly deps: readonly string[];
    readonly outs: readonly string[];
  };
  /** The script and its SQL files (docs/stage-contract.md) by path: the code that runs. */
  readonly cmdHashes: Readonly<Record<string, Sha256Hex>>;
  /**
   * Each dep's content hash (file sha256, or folder/glob manifest hash), or null when missing.
   * The manifest hash covers names and sizes too, so adding a file to a folder dep changes it.
   */
  readonly depHashes: Readonly<Record<string, Sha256Hex | null>>;
  /** Param values (not just keys): changing `clean.max_hold_ms` from 1000 to 2000 re-runs clean. */
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * Declared env inputs as sha256 of the value (null when unset). Values may be secrets: they are
   * hashed here and in the lock, never stored raw.
   */
  readonly envHashes: Readonly<Record<string, Sha256Hex | null>>;
}

/** The sha256 of an environment variable's value as it enters the fingerprint and the lock. */
export function envValueHash(value: string | undefined): Sha256Hex | null {
  if (value === undefined) return null;
  return createHash('sha256').update(`pipe-env\0${value}`).digest('hex') as Sha256Hex;
}

/**
 * JSON with object keys sorted at every level, so the same facts always give the same bytes
 * regardless of the order pipeline.yaml or params.yaml list them. Arrays keep their order:
 * `deps`/`outs` are sorted by the caller, and an array param's order is meaningful.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function computeFingerprint(input: FingerprintInput): Fingerprint {
  const document = {
    // The tool's format: see FINGERPRINT_FORMAT.
    format: FINGERPRINT_FORMAT,
    definition: {
      cmd: input.definition.cmd,
      deps: [...input.definition.deps].sort(),
      outs: [...input.definition.outs].sort(),
    },
    cmd: input.cmdHashes,
    deps: input.depHashes,
    params: input.params,
    env: input.envHashes,
  };
  return createHash('sha256').update(canonicalJson(document)).digest('hex') as Fingerprint;
}
