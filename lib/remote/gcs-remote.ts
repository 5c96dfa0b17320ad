// The gs:// remote through @google-cloud/storage 7 with Application Default Credentials.
// STORAGE_EMULATOR_HOST is honoured by the client itself; PIPE_GCS_ENDPOINT (gcsEndpoint) names
// a JSON API endpoint explicitly, which is how tests reach test/gcs-server/.
// Create-only is `ifGenerationMatch: 0`; a ref moves with `ifGenerationMatch: <generation read>`;
// the service answers 412 when the condition fails, so two pushes can never clobber each other.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Storage, type Bucket, type File, type GetFilesOptions } from '@google-cloud/storage';
import type { Sha256Hex } from '../util/sha256.js';
import {
  done,
  failed,
  InvalidRef,
  parseRefBody,
  refBody,
  type Remote,
  type RefState,
  type RemoteError,
  type RemoteOptions,
  type RemoteResult,
  type StoredObject,
} from './remote.js';
import {
  compareVersionIds,
  parseRefName,
  remoteKeys,
  versionIdOfFile,
  type RefName,
  type VersionId,
} from './remote-path.js';
import { stallTimer, tapped } from './stall.js';
import {
  ContentMismatch,
  MAX_MANIFEST_BYTES,
  readCapped,
  TooLarge,
  verifyingStream,
  writeVerified,
} from './verified-file.js';

/** Below this a single multipart request; above, a resumable upload that survives a dropped connection. */
const RESUMABLE_FROM_BYTES = 8 * 1024 * 1024;
/** Reading this many fan-out folders one by one costs more requests than listing all objects. */
const MAX_FOLDER_LISTS = 16;
/** As the client's own defaults were: 3 retries, waits capped at 64 s. */
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_MAX_RETRY_DELAY_MS = 64_000;
/** A transfer with no byte moved for this long is failed and retried (stall.ts). */
export const DEFAULT_STALL_MS = 60_000;

export interface GcsRemoteOptions extends RemoteOptions {
  readonly url: string;
  readonly bucket: string;
  readonly prefix: string;
}

export class GcsRemote implements Remote {
  readonly url: string;
  readonly #bucket: Bucket;
  readonly #prefix: string;
  readonly #pageSize: number;
  readonly #maxRetries: number;
  readonly #retryMaxDelayMs: number;
  readonly #stallMs: number;

  constructor(options: GcsRemoteOptions) {
    const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    const storage = new Storage({
      ...(options.gcsEndpoint === undefined || options.gcsEndpoint === ''
        ? {}
        : { apiEndpoint: options.gcsEndpoint }),
      // pipe retries, not the client (see #retrying): the client does not retry an upload
      // streamed from a file (most of a push), its save() turns autoRetry off for every later
      // request once a call has no retries, and it cannot wait less than a second.
      retryOptions: { autoRetry: false },
    });
    this.#maxRetries = maxRetries;
    this.#retryMaxDelayMs = options.retryMaxDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
    this.#stallMs = options.stallMs ?? DEFAULT_STALL_MS;
    this.url = options.url;
    this.#bucket = storage.bucket(options.bucket);
    this.#prefix = options.prefix;
    this.#pageSize = options.listPageSize ?? 1000;
  }

  async hasObjects(shas: readonly Sha256Hex[]): Promise<RemoteResult<Set<Sha256Hex>>> {
    return this.#retrying('objects', async () => {
      const wanted = new Set(shas);
      const folders = [...new Set(shas.map((s) => s.slice(0, 2)))];
      const prefixes =
        folders.length <= MAX_FOLDER_LISTS
          ? folders.map((twoHex) => remoteKeys.objectsFolder(this.#prefix, twoHex))
          : [remoteKeys.objectsFolder(this.#prefix)];
      const present = new Set<Sha256Hex>();
      for (const prefix of prefixes) {
        for (const name of await this.#list(prefix)) {
          const sha = name.slice(name.lastIndexOf('/') + 1) as Sha256Hex;
          if (wanted.has(sha)) present.add(sha);
        }
      }
      return done(present);
    });
  }

  async putObject(
    sha: Sha256Hex,
    localPath: string,
    size: number,
  ): Promise<RemoteResult<'stored' | 'present'>> {
    return this.#retrying(`object ${sha}`, async () => {
      const upload = this.#file(remoteKeys.object(this.#prefix, sha)).createWriteStream({
        resumable: size >= RESUMABLE_FROM_BYTES,
        // md5 (node:crypto, native) rather than the client's JavaScript crc32c: same end-to-end
        // check that the service stored what we sent, at a fraction of the CPU (bench/remote-transfer.ts).
        validation: 'md5',
        preconditionOpts: { ifGenerationMatch: 0 },
        metadata: { contentType: 'application/octet-stream' },
      });
      try {
        // The verifier fails before the body's end reaches the client: the service never
        // finalises an object whose bytes are not `sha`.
        const source = createReadStream(localPath);
        const stall = stallTimer(this.#stallMs, [upload], [source]);
        try {
          await pipeline(source, verifyingStream(sha, size), upload);
        } finally {
          stall.stop();
        }
        return done('stored');
      } catch (error) {
        if (error instanceof ContentMismatch) {
          return failed({
            kind: 'corrupt',
            what: localPath,
            expected: error.expected,
            actual: error.actual,
          });
        }
        if (httpStatus(error) === 412) return done('present');
        const code = (error as { code?: unknown }).code;
        if (code === 'FILE_NO_UPLOAD' || code === 'FILE_NO_UPLOAD_DELETE') {
          // The service's md5 of what it stored differs from ours of what we sent. The client
          // deletes the object (FILE_NO_UPLOAD); if that failed, a later getObject still refuses it.
          return failed({
            kind: 'corrupt',
            what: `object ${sha} on upload`,
            expected: 'the md5 of the bytes sent',
            actual: `what the service stored (${code})`,
          });
        }
        if (code === 'ENOENT' && (error as NodeJS.ErrnoException).path === localPath) {
          return failed({ kind: 'not-found', what: `local file ${localPath}` });
        }
        throw error;
      }
    });
  }

  async getObject(
    sha: Sha256Hex,
    destPath: string,
    size?: number,
  ): Promise<RemoteResult<{ size: number }>> {
    const what = `object ${sha}`;
    // A body cut short in transit fails the md5 or sha256 check: worth another try, like a
    // dropped connection. A stored object that is really corrupt fails every try, and is said.
    return this.#retrying(
      what,
      async () => {
        // The client checks the md5 from x-goog-hash as it reads; we check sha256 on top, because
        // that only proves the bytes are what the service stored, not what the name says.
        const source = this.#file(remoteKeys.object(this.#prefix, sha)).createReadStream({
          validation: 'md5',
        });
        const stall = stallTimer(this.#stallMs, [source]);
        try {
          const written = await writeVerified(
            tapped(source, stall),
            sha,
            destPath,
            undefined,
            size,
          ).finally(() => stall.stop());
          if (!written.ok)
            return failed({
              kind: 'corrupt',
              what,
              expected: written.error.expected,
              actual: written.error.actual,
            });
          return done({ size: written.value });
        } catch (error) {
          if ((error as { code?: unknown }).code === 'CONTENT_DOWNLOAD_MISMATCH') {
            return failed({
              kind: 'corrupt',
              what,
              expected: 'the crc32c/md5 the service holds',
              actual: 'different bytes in transit',
            });
          }
          throw error;
        }
      },
      (e) => e.kind === 'corrupt',
    );
  }

  async putManifest(id: VersionId, json: string): Promise<RemoteResult<'stored' | 'present'>> {
    const what = `version ${id}`;
    return this.#retrying(what, async () => {
      const file = this.#file(remoteKeys.version(this.#prefix, id));
      try {
        await this.#save(file, json, 0);
        return done('stored');
      } catch (error) {
        if (httpStatus(error) !== 412) throw error;
        const existing = await this.#download(file);
        return existing === json ? done('present') : failed({ kind: 'exists', what });
      }
    });
  }

  async getManifest(id: VersionId): Promise<RemoteResult<string>> {
    return this.#retrying(`version ${id}`, async () => {
      const file = this.#file(remoteKeys.version(this.#prefix, id));
      const source = file.createReadStream();
      const stall = stallTimer(this.#stallMs, [source]);
      try {
        return done(await readCapped(tapped(source, stall), MAX_MANIFEST_BYTES));
      } catch (error) {
        if (!(error instanceof TooLarge)) throw error;
        return failed({
          kind: 'corrupt',
          what: `version ${id}`,
          expected: `a manifest of at most ${error.max} bytes`,
          actual: 'more; reading stopped there',
        });
      } finally {
        stall.stop();
      }
    });
  }

  async listVersions(): Promise<RemoteResult<VersionId[]>> {
    return this.#retrying('versions', async () => {
      const folder = remoteKeys.versionsFolder(this.#prefix);
      const keys = await this.#list(folder);
      return done(
        keys
          .flatMap((key) => versionIdOfFile(key.slice(folder.length)) ?? [])
          .sort(compareVersionIds),
      );
    });
  }

  async readRef(name: RefName): Promise<RemoteResult<RefState | null>> {
    const result = await this.#retrying(`ref ${name}`, async () => done(await this.#readRef(name)));
    return !result.ok && result.error.kind === 'not-found' ? done(null) : result;
  }

  async casRef(
    name: RefName,
    versionId: VersionId,
    expected: string | null,
  ): Promise<RemoteResult<RefState>> {
    // A retry whose first try landed meets its own precondition (412): reported as `conflict`
    // with the ref at our version, which versions/ref-move.ts counts as our move.
    return this.#retrying(`ref ${name}`, async () => {
      const file = this.#file(remoteKeys.ref(this.#prefix, name));
      try {
        await this.#save(file, refBody(versionId), expected ?? 0);
      } catch (error) {
        if (httpStatus(error) !== 412) throw error;
        const current = await this.readRef(name);
        if (!current.ok) return current;
        return failed({ kind: 'conflict', ref: name, current: current.value });
      }
      return done({ versionId, generation: String(file.metadata.generation) });
    });
  }

  async listRefs(): Promise<RemoteResult<Map<RefName, RefState>>> {
    return this.#retrying('refs', async () => {
      const folder = remoteKeys.refsFolder(this.#prefix);
      const refs = new Map<RefName, RefState>();
      for (const key of (await this.#list(folder)).sort()) {
        const name = parseRefName(key.slice(folder.length).replace(/\.json$/, ''));
        if (!name.ok || !key.endsWith('.json')) continue;
        const state = await this.readRef(name.value);
        if (!state.ok) return state;
        if (state.value !== null) refs.set(name.value, state.value);
      }
      return done(refs);
    });
  }

  async listObjects(): Promise<RemoteResult<StoredObject[]>> {
    return this.#guard('objects', async () => {
      const folder = remoteKeys.objectsFolder(this.#prefix);
      const found: StoredObject[] = [];
      let query: GetFilesOptions | null = {
        prefix: folder,
        autoPaginate: false,
        maxResults: this.#pageSize,
      };
      while (query !== null) {
        const [files, next] = (await this.#bucket.getFiles(query)) as unknown as [
          File[],
          GetFilesOptions | null | undefined,
        ];
        for (const file of files) {
          const sha = file.name.slice(file.name.lastIndexOf('/') + 1);
          if (!/^[0-9a-f]{64}$/.test(sha)) continue;
          found.push({
            sha: sha as Sha256Hex,
            size: Number(file.metadata.size ?? 0),
            // No creation time: treated as just stored, so never old enough to collect.
            storedAtMs: Date.parse(String(file.metadata.timeCreated ?? '')) || Date.now(),
          });
        }
        query = next ?? null;
      }
      return done(found);
    });
  }

  async deleteObject(sha: Sha256Hex): Promise<RemoteResult<void>> {
    return this.#guard(`object ${sha}`, async () => {
      await this.#file(remoteKeys.object(this.#prefix, sha)).delete({ ignoreNotFound: true });
      return done(undefined);
    });
  }

  /**
   * Nothing to remove: an object is created by one request, or by a resumable session that the
   * service never publishes unfinished and discards after a week. No temp name is ever visible.
   */
  async removeStaleTemps(_graceMs: number): Promise<RemoteResult<string[]>> {
    return done([]);
  }

  /** A small JSON object, create-only (0) or over `generation`, under the stall timer. */
  async #save(file: File, text: string, generation: string | number): Promise<void> {
    const upload = file.createWriteStream({
      resumable: false,
      contentType: 'application/json',
      preconditionOpts: { ifGenerationMatch: generation },
    });
    const stall = stallTimer(this.#stallMs, [upload]);
    try {
      await pipeline(Readable.from([Buffer.from(text)]), upload);
    } finally {
      stall.stop();
    }
  }

  /** A small object's text, under the stall timer (the client's download() has none). */
  async #download(file: File): Promise<string> {
    const chunks: Buffer[] = [];
    const stream = file.createReadStream();
    const stall = stallTimer(this.#stallMs, [stream], [stream]);
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } finally {
      stall.stop();
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Reads a ref's body and its generation in one request (the x-goog-generation header). */
  async #readRef(name: RefName): Promise<RefState> {
    let generation: string | undefined;
    const chunks: Buffer[] = [];
    const stream = this.#file(remoteKeys.ref(this.#prefix, name)).createReadStream();
    stream.on('response', (response: { headers: Record<string, string | undefined> }) => {
      generation = response.headers['x-goog-generation'];
    });
    const stall = stallTimer(this.#stallMs, [stream], [stream]);
    try {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    } finally {
      stall.stop();
    }
    if (generation === undefined)
      throw new Error(`${this.url}: no x-goog-generation header on ref ${name}`);
    return { versionId: parseRefBody(name, Buffer.concat(chunks).toString('utf8')), generation };
  }

  /** Every object name under `prefix`, page by page (pageSize per request). */
  async #list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let query: GetFilesOptions | null = { prefix, autoPaginate: false, maxResults: this.#pageSize };
    while (query !== null) {
      const [files, next] = (await this.#bucket.getFiles(query)) as unknown as [
        File[],
        GetFilesOptions | null | undefined,
      ];
      for (const file of files) names.push(file.name);
      query = next ?? null;
    }
    return names;
  }

  #file(key: string): File {
    return this.#bucket.file(key);
  }

  /**
   * Runs `body` until it succeeds, fails for good, or has been tried 1 + maxRetries times. An
   * unreachable remote (429, 5xx, a dropped or reset connection) is tried again, as is whatever
   * `alsoRetry` accepts. Every operation is safe to repeat: objects and manifests are
   * create-only (a retry finding its own first try is `present`), refs move by
   * compare-and-swap, and reads change nothing. Waits 1 s, 2 s, 4 s ... with jitter, each capped
   * at retryMaxDelayMs.
   */
  async #retrying<T>(
    what: string,
    body: () => Promise<RemoteResult<T>>,
    alsoRetry: (error: RemoteError) => boolean = () => false,
  ): Promise<RemoteResult<T>> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.#guard(what, body);
      if (result.ok || attempt >= this.#maxRetries) return result;
      if (result.error.kind !== 'unreachable' && !alsoRetry(result.error)) return result;
      const wait = Math.min(this.#retryMaxDelayMs, 1000 * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, wait * (0.5 + Math.random() / 2)));
    }
  }

  /** Maps what the service or network can answer to values; anything else is a bug and throws. */
  async #guard<T>(what: string, body: () => Promise<RemoteResult<T>>): Promise<RemoteResult<T>> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof InvalidRef) return failed(error.toError());
      const mapped = classify(error, what, this.url);
      if (mapped === undefined) throw error;
      return failed(mapped);
    }
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

function classify(error: unknown, what: string, remote: string): RemoteError | undefined {
  const status = httpStatus(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (status === 404) return { kind: 'not-found', what };
  if (status === 401 || status === 403) return { kind: 'denied', remote, detail };
  if (status === 429 || (status !== undefined && status >= 500))
    return { kind: 'unreachable', remote, detail };
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code))
    return { kind: 'unreachable', remote, detail };
  if (
    /Could not load the default credentials|invalid_grant|Could not refresh access token/i.test(
      detail,
    )
  ) {
    return {
      kind: 'denied',
      remote,
      detail: `${detail} (run: gcloud auth application-default login)`,
    };
  }
  if (/retry limit exceeded|socket hang up|network/i.test(detail))
    return { kind: 'unreachable', remote, detail };
  return undefined;
}

/**
 * The HTTP status of a client error. Simple (multipart) requests fail with an ApiError whose
 * `.code` is the status; resumable uploads fail with a GaxiosError whose `.status` (and
 * `.response.status`) carry it, while its `.code` may be a string.
 */
export function httpStatus(error: unknown): number | undefined {
  const e = error as
    | { code?: unknown; status?: unknown; response?: { status?: unknown } }
    | undefined;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.status === 'number') return e.status;
  if (typeof e?.response?.status === 'number') return e.response.status;
  return undefined;
}
