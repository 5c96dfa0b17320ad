// A GCS JSON API server on node:http: the subset @google-cloud/storage 7 uses, answered as the
// service answers it (https://cloud.google.com/storage/docs/json_api). A test fixture only.
//   GET    /storage/v1/b/B                         bucket
//   GET    /storage/v1/b/B/o?prefix&delimiter&pageToken&maxResults   list
//   GET    /storage/v1/b/B/o/NAME[?alt=media]      metadata, or bytes (Range, x-goog-hash)
//   DELETE /storage/v1/b/B/o/NAME                  delete
//   POST   /upload/storage/v1/b/B/o?uploadType=multipart|media|resumable
//   PUT    /upload/storage/v1/b/B/o?upload_id=ID   resumable data (Content-Range), 308 + Range
// Paths without /storage/v1 are accepted too: with STORAGE_EMULATOR_HOST the client drops it.
import { appendFileSync, closeSync, createReadStream, openSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  notFound,
  preconditionsOf,
  type ApiFailure,
  type StoredObject,
  type Store,
} from './store.js';
import { Uploads } from './uploads.js';

export function createGcsServer(store: Store, uploadsDir: string, requestLog: string): Server {
  const uploads = new Uploads(store, uploadsDir);
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    // Logged as the status line is written, before any byte reaches the client: a test that
    // reads the log after the client returned always finds the request in it.
    const writeHead = res.writeHead.bind(res) as (
      status: number,
      headers?: Record<string, string>,
    ) => ServerResponse;
    res.writeHead = ((status: number, headers?: Record<string, string>) => {
      const entry = {
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        status,
      };
      appendFileSync(requestLog, `${JSON.stringify(entry)}\n`);
      return writeHead(status, headers);
    }) as typeof res.writeHead;
    route(store, uploads, req, res, url).catch((error: unknown) => {
      if (!res.headersSent)
        sendError(res, { status: 500, reason: 'backendError', message: String(error) });
      else res.destroy();
    });
  });
}

async function route(
  store: Store,
  uploads: Uploads,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const path = url.pathname.replace(/^\/download/, '');
  if (path === '/_fixture/corrupt-next-upload' && req.method === 'POST') {
    // Not part of the API: lets a test play a service that stores other bytes than it received.
    store.corruptNextUpload.add(url.searchParams.get('name') ?? '');
    return void res.writeHead(204).end();
  }
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(path);
  if (upload !== null) {
    const bucket = decodeURIComponent(upload[1]!);
    if (!store.hasBucket(bucket)) return sendError(res, noBucket(bucket));
    const outcome = await uploads.handle(req, url, bucket);
    if ('location' in outcome) {
      res.writeHead(200, { Location: outcome.location, 'Content-Length': '0' }).end();
    } else if ('incomplete' in outcome) {
      // 308 "Resume Incomplete": Range names the bytes persisted so far (none: no header).
      const headers: Record<string, string> = { 'Content-Length': '0' };
      if (outcome.incomplete > 0) headers.Range = `bytes=0-${outcome.incomplete - 1}`;
      res.writeHead(308, headers).end();
    } else if ('status' in outcome) {
      sendError(res, outcome);
    } else {
      sendJson(res, 200, resource(outcome, url.origin));
    }
    return;
  }
  const api = /^(?:\/storage\/v1)?\/b\/([^/]+)(\/o(?:\/(.+))?)?$/.exec(path);
  if (api === null)
    return sendError(res, { status: 404, reason: 'notFound', message: `Not Found: ${path}` });
  const bucket = decodeURIComponent(api[1]!);
  if (!store.hasBucket(bucket)) return sendError(res, noBucket(bucket));
  if (api[2] === undefined && req.method === 'GET') {
    return sendJson(res, 200, {
      kind: 'storage#bucket',
      id: bucket,
      name: bucket,
      location: 'US',
      storageClass: 'STANDARD',
    });
  }
  if (api[3] === undefined && req.method === 'GET') return list(store, res, url, bucket);
  if (api[3] === undefined)
    return sendError(res, { status: 405, reason: 'methodNotAllowed', message: req.method ?? '' });
  const name = decodeURIComponent(api[3]);
  const conditions = preconditionsOf(url.searchParams);
  if (req.method === 'DELETE') {
    const failure = store.delete(bucket, name, conditions);
    return failure === null ? void res.writeHead(204).end() : sendError(res, failure);
  }
  if (req.method !== 'GET')
    return sendError(res, { status: 405, reason: 'methodNotAllowed', message: req.method ?? '' });
  const object = store.get(bucket, name);
  const wanted = url.searchParams.get('generation');
  if (object === undefined || (wanted !== null && wanted !== object.generation))
    return sendError(res, notFound(bucket, name));
  const failure = store.check(object, conditions);
  if (failure !== null) return sendError(res, failure);
  if (url.searchParams.get('alt') === 'media') return media(req, res, object);
  sendJson(res, 200, resource(object, url.origin));
}

function list(store: Store, res: ServerResponse, url: URL, bucket: string): void {
  const q = url.searchParams;
  const maxResults = Math.min(Number(q.get('maxResults') ?? '1000') || 1000, 1000);
  const page = store.list(bucket, {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    pageToken: q.get('pageToken') ?? '',
    maxResults,
  });
  const body: Record<string, unknown> = { kind: 'storage#objects' };
  if (page.items.length > 0) body.items = page.items.map((o) => resource(o, url.origin));
  if (page.prefixes.length > 0) body.prefixes = page.prefixes;
  if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
  sendJson(res, 200, body);
}

/** alt=media: the bytes, whole or one Range, with the headers the client validates against. */
function media(req: IncomingMessage, res: ServerResponse, object: StoredObject): void {
  const headers: Record<string, string> = {
    'Content-Type': object.contentType,
    'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
    'x-goog-generation': object.generation,
    'x-goog-metageneration': object.metageneration,
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': String(object.size),
    ETag: `"${Buffer.from(object.md5Hash, 'base64').toString('hex')}"`,
    'Accept-Ranges': 'bytes',
  };
  // Opened now, in the same tick as the lookup: a concurrent overwrite unlinks the old
  // generation's file, and an open fd keeps reading it (as the service serves a generation).
  const fd = openSync(object.dataPath, 'r');
  const send = (options: { start?: number; end?: number }) =>
    createReadStream('', { fd, ...options })
      .on('error', () => res.destroy())
      .pipe(res);
  const range = parseRange(req.headers.range, object.size);
  if (range === 'unsatisfiable') {
    closeSync(fd);
    res.writeHead(416, { 'Content-Range': `bytes */${object.size}` }).end();
    return;
  }
  if (range !== null) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${object.size}`;
    headers['Content-Length'] = String(range.end - range.start + 1);
    res.writeHead(206, headers);
    send(range);
    return;
  }
  headers['Content-Length'] = String(object.size);
  res.writeHead(200, headers);
  send({});
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (the last n bytes). Inclusive, 0-based byte offsets. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | 'unsatisfiable' {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header);
  if (m === null || (m[1] === '' && m[2] === '')) return null;
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start > end || start >= size ? 'unsatisfiable' : { start, end };
}

export function resource(o: StoredObject, origin: string): Record<string, unknown> {
  const encoded = encodeURIComponent(o.name);
  return {
    kind: 'storage#object',
    id: `${o.bucket}/${o.name}/${o.generation}`,
    selfLink: `${origin}/storage/v1/b/${o.bucket}/o/${encoded}`,
    mediaLink: `${origin}/download/storage/v1/b/${o.bucket}/o/${encoded}?generation=${o.generation}&alt=media`,
    name: o.name,
    bucket: o.bucket,
    generation: o.generation,
    metageneration: o.metageneration,
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.size),
    md5Hash: o.md5Hash,
    crc32c: o.crc32c,
    etag: Buffer.from(`${o.generation}/${o.metageneration}`).toString('base64'),
    timeCreated: o.timeCreated,
    updated: o.timeCreated,
    timeStorageClassUpdated: o.timeCreated,
  };
}

function noBucket(bucket: string): ApiFailure {
  return {
    status: 404,
    reason: 'notFound',
    message: `The specified bucket does not exist: ${bucket}`,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The service's error shape: { error: { code, message, errors: [{ message, domain, reason }] } }. */
export function sendError(res: ServerResponse, failure: ApiFailure): void {
  sendJson(res, failure.status, {
    error: {
      code: failure.status,
      message: failure.message,
      errors: [{ message: failure.message, domain: 'global', reason: failure.reason }],
    },
  });
}
