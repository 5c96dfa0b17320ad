// A GCS JSON API server on node:http: the subset @google-cloud/storage 7 uses, answered as the
// service answers it (https://cloud.google.com/storage/docs/json_api). A test fixture only.
//   GET    /storage/v1/b/B                         bucket
//   GET    /storage/v1/b/B/o?prefix&delimiter&pageToken&maxResults   list
//   GET    /storage/v1/b/B/o/NAME[?alt=media]      metadata, or bytes (Range, x-goog-hash)
//   DELETE /storage/v1/b/B/o/NAME                  delete
//   POST   /upload/storage/v1/b/B/o?uploadType=multipart|media|resumable
//   PUT    /upload/storage/v1/b/B/o?upload_id=ID   resumable data (Content-Range), 308 + Range
// Paths without /storage/v1 are accepted too: with STORAGE_EMULATOR_HOST the client drops it.
// A list takes startOffset/endOffset; a list answers `fields` (fields.ts) with a partial response.
// Fixture calls, not part of the API (index.ts wraps them):
//   POST /_fixture/corrupt-next-upload?name=N     store N's next upload with a byte flipped
//   POST /_fixture/fail?method&path&count&mode    the next `count` matching requests fail (faults.ts)
//   POST /_fixture/latency?ms=N                   every later request waits N ms each way
//   POST /_fixture/gzip?on=1|0                    listings honour Accept-Encoding: gzip (or not)
//   POST /_fixture/bulk-objects?bucket=B[&content=C]  body: names, one a line; all hold C
import { appendFileSync, closeSync, createReadStream, openSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import {
  FAULT_MODES,
  type FaultMode,
  type FaultRule,
  takeFault,
  truncateResponse,
} from './faults.js';
import { applyFields, parseFields } from './fields.js';
import {
  notFound,
  preconditionsOf,
  type ApiFailure,
  type StoredObject,
  type Store,
} from './store.js';
import { Uploads } from './uploads.js';

/** What fixture calls change at run time: the added latency and the armed faults. */
interface Conditions {
  /** Added per direction: a request is answered 2 * latencyMs later, as across a network. */
  latencyMs: number;
  /** Listings answer `Accept-Encoding: gzip` compressed, as the service does; off by default. */
  gzip: boolean;
  readonly faults: FaultRule[];
}

export function createGcsServer(
  store: Store,
  uploadsDir: string,
  requestLog: string,
  options: { latencyMs?: number } = {},
): Server {
  const uploads = new Uploads(store, uploadsDir);
  const conditions: Conditions = { latencyMs: options.latencyMs ?? 0, gzip: false, faults: [] };
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    // Logged as the status line is written, before any byte reaches the client: a test that
    // reads the log after the client returned always finds the request in it.
    const writeHead = res.writeHead.bind(res) as (
      status: number,
      headers?: Record<string, string>,
    ) => ServerResponse;
    res.writeHead = ((status: number, headers?: Record<string, string>) => {
      appendFileSync(requestLog, `${JSON.stringify(logEntry(req, url, status))}\n`);
      return writeHead(status, headers);
    }) as typeof res.writeHead;
    // Fixture calls skip the added latency and the armed faults: they set them up.
    if (url.pathname.startsWith('/_fixture/')) {
      fixture(store, conditions, req, res, url).catch((error: unknown) =>
        sendError(res, { status: 500, reason: 'backendError', message: String(error) }),
      );
      return;
    }
    const fault = takeFault(conditions.faults, req, `${url.pathname}${url.search}`);
    const answer = async (): Promise<void> => {
      if (conditions.latencyMs > 0) await sleep(2 * conditions.latencyMs);
      if (fault === 'drop') {
        appendFileSync(requestLog, `${JSON.stringify(logEntry(req, url, 0))}\n`);
        req.socket.destroy();
        return;
      }
      if (fault === '429' || fault === '503') {
        const reason = fault === '429' ? 'rateLimitExceeded' : 'backendError';
        return sendError(res, { status: Number(fault), reason, message: `injected ${fault}` });
      }
      if (fault === 'truncate') truncateResponse(res);
      await route(store, uploads, req, res, url, conditions.gzip);
    };
    answer().catch((error: unknown) => {
      if (!res.headersSent)
        sendError(res, { status: 500, reason: 'backendError', message: String(error) });
      else res.destroy();
    });
  });
}

function logEntry(req: IncomingMessage, url: URL, status: number) {
  return {
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    status,
  };
}

async function fixture(
  store: Store,
  conditions: Conditions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const q = url.searchParams;
  const bad = (message: string) => sendError(res, { status: 400, reason: 'invalid', message });
  if (req.method !== 'POST') return bad('fixture calls are POST');
  switch (url.pathname) {
    case '/_fixture/corrupt-next-upload':
      // Lets a test play a service that stores other bytes than it received.
      store.corruptNextUpload.add(q.get('name') ?? '');
      return void res.writeHead(204).end();
    case '/_fixture/fail': {
      const mode = q.get('mode') as FaultMode;
      const count = Number(q.get('count') ?? '1');
      if (!FAULT_MODES.includes(mode)) return bad(`mode must be one of ${FAULT_MODES.join(', ')}`);
      if (!Number.isInteger(count) || count < 1) return bad('count must be a positive integer');
      const path = new RegExp(q.get('path') ?? '');
      conditions.faults.push({ method: q.get('method') ?? '', path, mode, remaining: count });
      return void res.writeHead(204).end();
    }
    case '/_fixture/gzip':
      conditions.gzip = q.get('on') === '1';
      return void res.writeHead(204).end();
    case '/_fixture/latency': {
      const ms = Number(q.get('ms'));
      if (!Number.isFinite(ms) || ms < 0) return bad('ms must be a number >= 0');
      conditions.latencyMs = ms;
      return void res.writeHead(204).end();
    }
    case '/_fixture/bulk-objects': {
      const bucket = q.get('bucket') ?? '';
      if (!store.hasBucket(bucket)) return sendError(res, noBucket(bucket));
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const names = Buffer.concat(chunks)
        .toString('utf8')
        .split('\n')
        .filter((n) => n !== '');
      const created = store.bulkCreate(bucket, names, Buffer.from(q.get('content') ?? '{}'));
      return sendJson(res, 200, { created });
    }
    default:
      return bad(`unknown fixture call ${url.pathname}`);
  }
}

async function route(
  store: Store,
  uploads: Uploads,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  gzip: boolean,
): Promise<void> {
  const path = url.pathname.replace(/^\/download/, '');
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
  if (api[3] === undefined && req.method === 'GET')
    return list(
      store,
      res,
      url,
      bucket,
      gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? ''),
    );
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

function list(store: Store, res: ServerResponse, url: URL, bucket: string, gzip: boolean): void {
  const q = url.searchParams;
  const maxResults = Math.min(Number(q.get('maxResults') ?? '1000') || 1000, 1000);
  const fields = q.has('fields') ? parseFields(q.get('fields')!) : undefined;
  if (fields === null) {
    const message = `Invalid field selection ${q.get('fields')}`;
    sendError(res, { status: 400, reason: 'invalidParameter', message });
    return;
  }
  const page = store.list(bucket, {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    pageToken: q.get('pageToken') ?? '',
    maxResults,
    startOffset: q.get('startOffset') ?? '',
    endOffset: q.get('endOffset') ?? '',
  });
  const body: Record<string, unknown> = { kind: 'storage#objects' };
  // Only the members asked for are built: 1000 full resources a page would cost the benchmark.
  const itemFields = fields?.get('items');
  const item =
    itemFields === undefined || itemFields === null
      ? (o: StoredObject) => resource(o, url.origin)
      : (o: StoredObject) => resource(o, url.origin, itemFields);
  if (page.items.length > 0) body.items = page.items.map(item);
  if (page.prefixes.length > 0) body.prefixes = page.prefixes;
  if (page.nextPageToken !== undefined) body.nextPageToken = page.nextPageToken;
  if (fields === undefined) {
    sendJson(res, 200, body, gzip);
    return;
  }
  // Items are already cut to their selection; the rest of the selection applies to the top level.
  const { items, ...rest } = body;
  const partial = applyFields(rest, fields) as Record<string, unknown>;
  if (items !== undefined && itemFields !== undefined) partial.items = items;
  sendJson(res, 200, partial, gzip);
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

const RESOURCE: Record<string, (o: StoredObject, origin: string) => unknown> = {
  kind: () => 'storage#object',
  id: (o) => `${o.bucket}/${o.name}/${o.generation}`,
  selfLink: (o, origin) => `${origin}/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}`,
  mediaLink: (o, origin) =>
    `${origin}/download/storage/v1/b/${o.bucket}/o/${encodeURIComponent(o.name)}?generation=${o.generation}&alt=media`,
  name: (o) => o.name,
  bucket: (o) => o.bucket,
  generation: (o) => o.generation,
  metageneration: (o) => o.metageneration,
  contentType: (o) => o.contentType,
  storageClass: () => 'STANDARD',
  size: (o) => String(o.size),
  md5Hash: (o) => o.md5Hash,
  crc32c: (o) => o.crc32c,
  etag: (o) => Buffer.from(`${o.generation}/${o.metageneration}`).toString('base64'),
  timeCreated: (o) => o.timeCreated,
  updated: (o) => o.timeCreated,
  timeStorageClassUpdated: (o) => o.timeCreated,
};

/** The object resource, or only the members `selection` names (a partial response). */
export function resource(
  o: StoredObject,
  origin: string,
  selection?: ReadonlyMap<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const member of selection?.keys() ?? Object.keys(RESOURCE)) {
    const value = RESOURCE[member]?.(o, origin);
    if (value !== undefined) out[member] = value;
  }
  return out;
}

function noBucket(bucket: string): ApiFailure {
  return {
    status: 404,
    reason: 'notFound',
    message: `The specified bucket does not exist: ${bucket}`,
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, gzip = false): void {
  const text = JSON.stringify(body);
  const bytes = gzip ? gzipSync(text) : Buffer.from(text);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': String(bytes.length),
    ...(gzip ? { 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' } : {}),
  });
  res.end(bytes);
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
