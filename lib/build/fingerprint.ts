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
 *
 * 2: the code a fingerprint covers grew from the script and its SQL to the script's whole import
 * closure plus the versions of the packages it imports (build/code-deps.ts). A stage built under
 * format 1 may have run with a helper file that has since changed unseen, so it is not trusted.
 */
export const FINGERPRINT_FORMAT = 2;

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
  /**
   * The code that runs, by path: for a node script, the script, the SQL beside it and every
   * local file of its import closure (docs/stage-contract.md); empty for a command line.
   */
  readonly codeHashes: Readonly<Record<string, Sha256Hex>>;
  /**
   * The installed version of each package the closure imports (null: not installed). Packages
   * enter by version, not content: node_modules is the package manager's, and a version names
   * its bytes as far as a stage's outputs are concerned.
   */
  readonly packages: Readonly<Record<string, string | null>>;
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
    code: input.codeHashes,
    packages: input.packages,
    deps: input.depHashes,
    params: input.params,
    env: input.envHashes,
  };
  return createHash('sha256').update(canonicalJson(document)).digest('hex') as Fingerprint;
}
