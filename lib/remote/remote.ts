// The remote: where versions live. One small interface, two real stores:
// local-remote.ts (a folder) and gcs-remote.ts (a bucket). Layout under the store's prefix:
//   objects/<aa>/<sha256>     file contents, create-only, never changed, verified on read
//   versions/<id>.json        manifests, create-only, written after all their objects
//   refs/<name>.json          { version } moved only by compare-and-swap on a generation
// Expected failures are values (RemoteError); a throw is a bug.
import { err, ok, type Result } from '../util/result.js';
import type { Sha256Hex } from '../util/sha256.js';
import { parseVersionId, type RefName, type VersionId } from './remote-path.js';

/** Where a ref points, and the generation to pass to casRef to move it from here. */
export interface RefState {
  readonly versionId: VersionId;
  /** Opaque, compared for equality only (GCS: the object generation; file://: a counter). */
  readonly generation: string;
}

export type RemoteError =
  /** `what` is absent: an object, a version or a ref. */
  | { readonly kind: 'not-found'; readonly what: string }
  /** casRef lost: someone moved the ref first. `current` is where it points now (null: deleted). */
  | { readonly kind: 'conflict'; readonly ref: RefName; readonly current: RefState | null }
  /** A create-only write found different content already there (same-content re-put is success). */
  | { readonly kind: 'exists'; readonly what: string }
  /** Bytes did not hash to their name: nothing was written. `what` names the object or file. */
  | {
      readonly kind: 'corrupt';
      readonly what: string;
      readonly expected: string;
      readonly actual: string;
    }
  /** Network failure, timeout, or the service answered 5xx / 429. Worth retrying later. */
  | { readonly kind: 'unreachable'; readonly remote: string; readonly detail: string }
  /** Credentials missing or refused (401/403), or a local permission error. */
  | { readonly kind: 'denied'; readonly remote: string; readonly detail: string };

export type RemoteResult<T> = Result<T, RemoteError>;

/** `ok` and `err` typed for a store method, so an error literal is checked against RemoteError. */
export const done = <T>(value: T): RemoteResult<T> => ok(value);
export const failed = <T>(error: RemoteError): RemoteResult<T> => err(error);

/** The body of a ref object/file; the stores serialise `{ version }` and nothing else. */
export function refBody(versionId: VersionId): string {
  return `${JSON.stringify({ version: versionId })}\n`;
}

/** A ref's body read back. Untrusted: thrown as InvalidRef, which the stores turn into `corrupt`. */
export function parseRefBody(name: RefName, text: string): VersionId {
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    throw new InvalidRef(name, 'not JSON');
  }
  const id = parseVersionId(String(version));
  if (!id.ok) throw new InvalidRef(name, id.error);
  return id.value;
}

export class InvalidRef extends Error {
  constructor(
    readonly ref: RefName,
    readonly reason: string,
  ) {
    super(`ref ${ref} does not hold a version ID: ${reason}`);
  }

  toError(): RemoteError {
    return {
      kind: 'corrupt',
      what: `ref ${this.ref}`,
      expected: '{"version": "<version ID>"}',
      actual: this.reason,
    };
  }
}

export interface Remote {
  /** The URL it was opened from, for messages (`file:///…`, `gs://bucket/prefix`). */
  readonly url: string;
  /** Which of `shas` the remote holds. Lists by key prefix: a few requests, not one per object. */
  hasObjects(shas: readonly Sha256Hex[]): Promise<RemoteResult<Set<Sha256Hex>>>;
  /**
   * Uploads `localPath` as object `sha`, create-only. Hashes while streaming: if the bytes are
   * not `sha` / `size` (the file changed), nothing is stored and the result is `corrupt`.
   * 'present' when the object already existed (not an error: objects are named by content).
   */
  putObject(
    sha: Sha256Hex,
    localPath: string,
    size: number,
  ): Promise<RemoteResult<'stored' | 'present'>>;
  /**
   * Downloads object `sha` to `destPath` (parent folders created; an existing file is replaced
   * atomically). The sha256 is checked before the file lands (temp file + rename in the same
   * folder); on a mismatch nothing is written. Validate `destPath` first (workspaceDestination).
   * `size` (from a manifest) caps the download: an object longer than it fails as `corrupt` as
   * soon as byte size + 1 arrives, so an endless object cannot fill the disk.
   */
  getObject(
    sha: Sha256Hex,
    destPath: string,
    size?: number,
  ): Promise<RemoteResult<{ readonly size: number }>>;
  /** Create-only. Same bytes already there: 'present'; different bytes: `exists`. */
  putManifest(id: VersionId, json: string): Promise<RemoteResult<'stored' | 'present'>>;
  getManifest(id: VersionId): Promise<RemoteResult<string>>;
  /** Every version ID, oldest first (compareVersionIds: by the UTC time the ID starts with). */
  listVersions(): Promise<RemoteResult<VersionId[]>>;
  /** null when the ref does not exist. */
  readRef(name: RefName): Promise<RemoteResult<RefState | null>>;
  /**
   * Points `name` at `versionId` if and only if it is still at `expectedGeneration` (null: the
   * ref must not exist yet). Lost race: `conflict` with the current state; never overwrites.
   * On GCS a retried request whose first attempt did land reports `conflict` with
   * `current.versionId === versionId`: the caller decides whether that counts as its own move.
   */
  casRef(
    name: RefName,
    versionId: VersionId,
    expectedGeneration: string | null,
  ): Promise<RemoteResult<RefState>>;
  listRefs(): Promise<RemoteResult<Map<RefName, RefState>>>;
  /** Every stored object with its size and when it was stored (for `pipe gc`). */
  listObjects(): Promise<RemoteResult<StoredObject[]>>;
  /** Deletes object `sha`; one already gone is not an error (`pipe gc` only). */
  deleteObject(sha: Sha256Hex): Promise<RemoteResult<void>>;
  /**
   * Removes temp files a killed writer left (file://: `.<name>.tmp-<pid>-<hex>` beside objects,
   * manifests and refs) older than `graceMs`; returns their keys. Never touches a published name.
   */
  removeStaleTemps(graceMs: number): Promise<RemoteResult<string[]>>;
}

export interface StoredObject {
  readonly sha: Sha256Hex;
  readonly size: number;
  /** When it was stored (ms since the epoch): gc keeps young objects a push may be about to name. */
  readonly storedAtMs: number;
}

/** One line for a person: what failed and, where there is one, what to do. */
export function describeRemoteError(error: RemoteError): string {
  switch (error.kind) {
    case 'not-found':
      return `${error.what} is not on the remote`;
    case 'conflict':
      return error.current === null
        ? `ref ${error.ref} was deleted by someone else meanwhile; re-read it and try again`
        : `ref ${error.ref} was moved by someone else meanwhile (now ${error.current.versionId}); re-read it and try again`;
    case 'exists':
      return `${error.what} already exists on the remote with different content; it is never overwritten`;
    case 'corrupt':
      return `${error.what} is corrupt: expected ${error.expected}, got ${error.actual}; nothing was written`;
    case 'unreachable':
      return `remote ${error.remote} is unreachable: ${error.detail}`;
    case 'denied':
      return `remote ${error.remote} refused access: ${error.detail}`;
    default:
      return unreachableKind(error);
  }
}

function unreachableKind(error: never): never {
  throw new Error(`unhandled remote error ${JSON.stringify(error)}`);
}

/** What openRemote needs besides the URL; the command reads these from Config. */
export interface RemoteOptions {
  /** Absolute workspace path: `file://relative/path` is resolved against it. */
  readonly workspace: string;
  /** PIPE_GCS_ENDPOINT: a GCS JSON API endpoint other than Google's (tests, emulators). */
  readonly gcsEndpoint?: string;
  /** Objects per list request on GCS (default 1000, the service maximum). */
  readonly listPageSize?: number;
  /** Retries of a failed GCS request (default 3); 0 makes an unreachable remote fail fast. */
  readonly maxRetries?: number;
  /**
   * The longest wait between two tries of a GCS request, in ms (default 64,000). The client
   * waits 2^n s plus up to 1 s of jitter before retry n, capped at this.
   */
  readonly retryMaxDelayMs?: number;
  /** A GCS transfer that moves no byte for this long is failed and retried (default 60,000). */
  readonly stallMs?: number;
}
