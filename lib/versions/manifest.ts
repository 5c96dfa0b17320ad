// A version's manifest: the immutable record `pipe push` writes to the remote after all its
// objects, and `pipe pull` / `pipe versions` / the remote build cache read back. It carries the
// whole lock entry of every stage, so a pull can write pipeline.lock exactly as the pusher had it,
// and the build cache can match a stale stage's fingerprint against it.
//
// A manifest read from a remote is untrusted input: parseManifest checks every field it will act
// on (IDs, shas, sizes, and every path through remote-path.ts) before anyone writes a byte.
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../util/result.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { LockEntry } from '../build/lockfile.js';
import { parseLock } from '../build/lockfile.js';
import {
  parseManifestPath,
  parseSha256,
  parseVersionId,
  type VersionId,
} from '../remote/remote-path.js';

/** Bumped on incompatible changes; a newer manifest is refused, never guessed at. */
export const MANIFEST_FORMAT = 1;

export interface VersionFile {
  /** Workspace-relative POSIX path. */
  readonly path: string;
  readonly sha256: Sha256Hex;
  readonly size: number;
}

export interface VersionStage {
  /** The stage's pipeline.lock entry when it was pushed (fingerprint, deps, outs, metrics). */
  readonly lock: LockEntry;
  /** Every file of every out, sorted by path. */
  readonly files: readonly VersionFile[];
  /** How long the stage ran, when this workspace ran it (see stage-times.ts). */
  readonly durationMs?: number;
}

/** The pusher's ed25519 signature over the rest of the manifest (signature.ts). */
export interface ManifestSignature {
  readonly algorithm: 'ed25519';
  /** base64url of the 32-byte public key. */
  readonly publicKey: string;
  /** base64url of the 64-byte signature. */
  readonly value: string;
}

export interface VersionManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly id: VersionId;
  readonly pushedBy: string;
  /** ISO 8601 UTC. */
  readonly pushedAt: string;
  /** `git rev-parse HEAD` of the workspace, when it is a git checkout. */
  readonly gitCommit?: string;
  readonly notes: string;
  readonly stages: Readonly<Record<string, VersionStage>>;
  /** Absent when the pusher had no signing key: such a version is never reused by a build. */
  readonly signature?: ManifestSignature;
}

/** A validated manifest, or one sentence naming the version and what is wrong with it. */
export type ManifestCheck = Result<VersionManifest, string>;

/** What a version holds, independent of who pushed it when: equal digests mean nothing changed. */
export function contentDigest(stages: Readonly<Record<string, VersionStage>>): Sha256Hex {
  const hash = createHash('sha256');
  for (const name of Object.keys(stages).sort()) {
    const stage = stages[name]!;
    hash.update(`stage\t${name}\t${stage.lock.fingerprint}\n`);
    for (const f of stage.files) hash.update(`${f.path}\t${f.sha256}\t${f.size}\n`);
  }
  return hash.digest('hex') as Sha256Hex;
}

/** Stable JSON (keys in a fixed order by construction), so a retried put sends the same bytes. */
export function formatManifest(manifest: VersionManifest): string {
  return `${JSON.stringify(manifest, null, 1)}\n`;
}

/** Every distinct object a manifest needs, with its size. */
export function manifestObjects(
  manifest: VersionManifest,
  stages?: readonly string[],
): Map<Sha256Hex, number> {
  const objects = new Map<Sha256Hex, number>();
  for (const [name, stage] of Object.entries(manifest.stages)) {
    if (stages !== undefined && !stages.includes(name)) continue;
    for (const f of stage.files) objects.set(f.sha256, f.size);
  }
  return objects;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses and validates a manifest read from `id` on a remote. */
export function parseManifest(id: VersionId, text: string): ManifestCheck {
  const bad = (reason: string): ManifestCheck => err(`version ${id}: ${reason}`);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return bad(`manifest is not JSON (${(error as Error).message})`);
  }
  if (!isObject(data)) return bad('manifest is not an object');
  if (data.format !== MANIFEST_FORMAT) {
    return bad(
      `manifest format ${JSON.stringify(data.format)} is not ${MANIFEST_FORMAT} (a newer pipe wrote it? upgrade pipe)`,
    );
  }
  const ownId = parseVersionId(String(data.id));
  if (!ownId.ok || ownId.value !== id)
    return bad(`manifest names itself ${JSON.stringify(data.id)}`);
  if (
    typeof data.pushedBy !== 'string' ||
    typeof data.pushedAt !== 'string' ||
    typeof data.notes !== 'string'
  ) {
    return bad('pushedBy, pushedAt and notes must be strings');
  }
  if (!isObject(data.stages)) return bad('"stages" must be an object');
  if (data.signature !== undefined && !isSignature(data.signature))
    return bad('"signature" must be {algorithm: "ed25519", publicKey, value} in base64url');
  // The lock entries are checked by the lock file's own validator.
  const locks = parseLock(
    JSON.stringify({
      version: 1,
      stages: Object.fromEntries(
        Object.entries(data.stages).map(([n, s]) => [n, isObject(s) ? s.lock : s]),
      ),
    }),
  );
  if (!locks.ok) return bad(locks.message.replace('pipeline.lock: ', 'lock entry '));
  for (const [name, stage] of Object.entries(data.stages)) {
    if (!isObject(stage) || !Array.isArray(stage.files))
      return bad(`stage ${name} has no files list`);
    for (const out of Object.keys((stage.lock as { outs: object }).outs)) {
      const path = parseManifestPath(out);
      if (!path.ok) return bad(`stage ${name} out: ${path.error}`);
    }
    for (const f of stage.files as unknown[]) {
      const problem = fileProblem(f);
      if (problem !== undefined) return bad(`stage ${name}: ${problem}`);
    }
    if (stage.durationMs !== undefined && typeof stage.durationMs !== 'number')
      return bad(`stage ${name}: durationMs must be a number`);
  }
  return ok(data as unknown as VersionManifest);
}

const isSignature = (s: unknown): boolean =>
  isObject(s) &&
  s.algorithm === 'ed25519' &&
  typeof s.publicKey === 'string' &&
  /^[A-Za-z0-9_-]{43}$/.test(s.publicKey) &&
  typeof s.value === 'string' &&
  /^[A-Za-z0-9_-]{86}$/.test(s.value);

function fileProblem(f: unknown): string | undefined {
  if (!isObject(f) || typeof f.path !== 'string') return 'a file entry has no path';
  const path = parseManifestPath(f.path);
  if (!path.ok) return path.error;
  const sha = parseSha256(String(f.sha256));
  if (!sha.ok) return `${f.path}: ${sha.error}`;
  if (typeof f.size !== 'number' || !Number.isSafeInteger(f.size) || f.size < 0)
    return `${f.path}: size must be a whole number >= 0`;
  return undefined;
}
