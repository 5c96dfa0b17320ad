// Object inserts, as the client sends them (https://cloud.google.com/storage/docs/uploads-downloads):
// - uploadType=multipart: multipart/related, part 1 the JSON metadata, part 2 the bytes.
// - uploadType=media: the bytes, name in the query.
// - uploadType=resumable: POST opens a session (preconditions checked now and again at the end)
//   and answers its URI in Location; PUTs to it carry `Content-Range: bytes A-B/T` chunks
//   answered 308 + `Range: bytes=0-N` until the last, or `bytes 0-*/*` for all of it in one
//   request; `bytes */*` asks how much arrived.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  openSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Checksums } from './checksums.js';
import {
  preconditionsOf,
  type ApiFailure,
  type Preconditions,
  type Store,
  type StoredObject,
} from './store.js';

export type UploadOutcome =
  | StoredObject
  | ApiFailure
  | { location: string }
  | { incomplete: number };

interface Session {
  readonly bucket: string;
  readonly name: string;
  readonly conditions: Preconditions;
  readonly contentType: string;
  readonly declaredLength: number | undefined;
  readonly tempPath: string;
  received: number;
  /** Checksums of the bytes on disk so far; null after an interrupted request (then recomputed). */
  sums: Checksums | null;
  done?: StoredObject;
}

const invalid = (message: string): ApiFailure => ({ status: 400, reason: 'invalid', message });

export class Uploads {
  readonly #sessions = new Map<string, Session>();

  constructor(
    readonly store: Store,
    readonly dir: string,
  ) {}

  async handle(req: IncomingMessage, url: URL, bucket: string): Promise<UploadOutcome> {
    const q = url.searchParams;
    const sessionId = q.get('upload_id');
    if (sessionId !== null) {
      const session = this.#sessions.get(sessionId);
      if (session === undefined)
        return { status: 404, reason: 'notFound', message: `No such upload session: ${sessionId}` };
      if (req.method === 'DELETE') {
        this.#sessions.delete(sessionId);
        return { status: 499, reason: 'clientClosedRequest', message: 'Upload cancelled' };
      }
      return this.#resume(req, session);
    }
    if (req.method !== 'POST')
      return { status: 405, reason: 'methodNotAllowed', message: req.method ?? '' };
    const body = await readAll(req);
    const type = q.get('uploadType');
    if (type === 'resumable') return this.#open(req, url, bucket, body);
    let metadata: Record<string, unknown> = {};
    let data = body;
    if (type === 'multipart') {
      const parts = splitMultipart(body, req.headers['content-type'] ?? '');
      if (parts === null || parts.length !== 2)
        return invalid('multipart body must have a metadata part and a media part');
      metadata = JSON.parse(parts[0]!.toString('utf8')) as Record<string, unknown>;
      data = parts[1]!;
    } else if (type !== 'media') {
      return invalid(`unsupported uploadType ${String(type)}`);
    }
    const name = q.get('name') ?? (typeof metadata.name === 'string' ? metadata.name : '');
    if (name === '') return invalid('Required: object name');
    const temp = this.#tempPath();
    writeFileSync(temp, data);
    const sums = new Checksums();
    sums.update(data);
    const contentType =
      typeof metadata.contentType === 'string'
        ? metadata.contentType
        : (req.headers['content-type'] ?? 'application/octet-stream');
    const claimed = { crc32c: metadata.crc32c, md5: metadata.md5Hash };
    return this.#finish(bucket, name, temp, contentType, preconditionsOf(q), claimed, sums);
  }

  #open(req: IncomingMessage, url: URL, bucket: string, body: Buffer): UploadOutcome {
    const metadata =
      body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    const name =
      url.searchParams.get('name') ?? (typeof metadata.name === 'string' ? metadata.name : '');
    if (name === '') return invalid('Required: object name');
    const conditions = preconditionsOf(url.searchParams);
    const failure = this.store.check(this.store.get(bucket, name), conditions);
    if (failure !== null) return failure;
    const id = randomBytes(12).toString('hex');
    const length = req.headers['x-upload-content-length'];
    const tempPath = this.#tempPath();
    writeFileSync(tempPath, '');
    this.#sessions.set(id, {
      bucket,
      name,
      conditions,
      contentType: String(
        req.headers['x-upload-content-type'] ?? metadata.contentType ?? 'application/octet-stream',
      ),
      declaredLength: typeof length === 'string' ? Number(length) : undefined,
      tempPath,
      received: 0,
      sums: new Checksums(),
    });
    const location = new URL(`/upload/storage/v1/b/${encodeURIComponent(bucket)}/o`, url.origin);
    location.searchParams.set('uploadType', 'resumable');
    location.searchParams.set('name', name);
    location.searchParams.set('upload_id', id);
    return { location: location.href };
  }

  async #resume(req: IncomingMessage, session: Session): Promise<UploadOutcome> {
    const header = req.headers['content-range'] ?? '';
    const m = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(header);
    if (m === null) {
      await readAll(req);
      return invalid(`bad Content-Range "${header}"`);
    }
    if (session.done !== undefined) {
      await readAll(req);
      return session.done;
    }
    const total = m[3] === '*' ? undefined : Number(m[3]);
    if (m[1] === undefined) {
      await readAll(req); // a status query: `bytes */*` or `bytes */T`
    } else {
      const start = Number(m[1]);
      if (start > session.received) {
        await readAll(req);
        return invalid(
          `Content-Range starts at ${start} but only ${session.received} bytes arrived`,
        );
      }
      const consumed = await this.#append(req, session, session.received - start);
      if (m[2] !== '*' && consumed !== Number(m[2]) - start + 1) {
        return invalid(`Content-Range ${header} does not match the ${consumed} bytes sent`);
      }
    }
    if (total !== undefined && session.received > total)
      return invalid(`received ${session.received} bytes, more than ${total}`);
    const complete =
      total !== undefined ? session.received === total : m[1] !== undefined && m[2] === '*';
    if (!complete) return { incomplete: session.received };
    if (session.declaredLength !== undefined && session.declaredLength !== session.received) {
      return invalid(
        `X-Upload-Content-Length was ${session.declaredLength}, received ${session.received}`,
      );
    }
    const claimed = parseGoogHash(req.headers['x-goog-hash']);
    const outcome = await this.#finish(
      session.bucket,
      session.name,
      session.tempPath,
      session.contentType,
      session.conditions,
      claimed,
      session.sums,
    );
    if ('generation' in outcome) session.done = outcome;
    return outcome;
  }

  /** Appends the request body to the session's file, skipping `skip` bytes it already has. */
  async #append(req: IncomingMessage, session: Session, skip: number): Promise<number> {
    let consumed = 0;
    const sums = session.sums;
    const skipper = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const from = Math.max(0, Math.min(chunk.length, skip - consumed));
        consumed += chunk.length;
        sums?.update(chunk.subarray(from));
        callback(null, chunk.subarray(from));
      },
    });
    try {
      await pipeline(req, skipper, createWriteStream(session.tempPath, { flags: 'a' }));
    } catch (error) {
      session.sums = null; // some hashed bytes may not have reached the disk
      throw error;
    } finally {
      // What is on disk counts, even when the client hung up half-way (it may resume).
      session.received = statSync(session.tempPath).size;
    }
    return consumed;
  }

  async #finish(
    bucket: string,
    name: string,
    temp: string,
    contentType: string,
    conditions: Preconditions,
    claimed: { crc32c?: unknown; md5?: unknown },
    known: Checksums | null = null,
  ): Promise<StoredObject | ApiFailure> {
    let sums = known;
    if (this.store.corruptNextUpload.delete(name)) {
      const fd = openSync(temp, 'r+');
      const first = Buffer.alloc(1);
      readSync(fd, first, 0, 1, 0);
      writeSync(fd, Buffer.from([first[0]! ^ 0xff]), 0, 1, 0);
      closeSync(fd);
      sums = null;
    }
    if (sums === null) {
      sums = new Checksums();
      for await (const chunk of createReadStream(temp)) sums.update(chunk as Buffer);
    }
    const facts = { size: sums.size, contentType, ...sums.digest() };
    if (typeof claimed.crc32c === 'string' && claimed.crc32c !== facts.crc32c) {
      return invalid(
        `Provided CRC32C "${claimed.crc32c}" doesn't match calculated CRC32C "${facts.crc32c}".`,
      );
    }
    if (typeof claimed.md5 === 'string' && claimed.md5 !== facts.md5Hash) {
      return invalid(
        `Provided MD5 hash "${claimed.md5}" doesn't match calculated MD5 hash "${facts.md5Hash}".`,
      );
    }
    return this.store.commit(bucket, name, temp, facts, conditions);
  }

  #tempPath(): string {
    return join(this.dir, randomBytes(12).toString('hex'));
  }
}

/** `crc32c=AAAAAA==,md5=...` as sent on the last request of an upload. */
function parseGoogHash(header: string | string[] | undefined): { crc32c?: string; md5?: string } {
  const out: Record<string, string> = {};
  for (const pair of [header ?? []].flat().join(',').split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** The bodies of a multipart/related message; null if the boundary is missing. */
function splitMultipart(body: Buffer, contentType: string): Buffer[] | null {
  const m = /boundary="?([^";]+)"?/.exec(contentType);
  if (m === null) return null;
  const delimiter = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const afterDelimiter = at + delimiter.length;
    if (body.subarray(afterDelimiter, afterDelimiter + 2).toString() === '--') break; // closing delimiter
    const headersEnd = body.indexOf('\r\n\r\n', afterDelimiter);
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
    if (headersEnd < 0 || next < 0) return null; // truncated: the closing delimiter never came
    parts.push(body.subarray(headersEnd + 4, next));
    at = next + 2;
  }
  return parts;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
