// One page of a GCS object listing over the JSON API: the request, its retries, and a strict
// reading of the answer. A page that cannot be read whole and well-formed is an error, never a
// shorter page. node:http(s) with keep-alive rather than fetch: half the CPU a page (a listing of
// 241,605 objects is 242 pages of 156 kB), measured while writing bench/gcs-listing.ts.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gunzipSync } from 'node:zlib';
import { err, ok, type Result } from '../util/result.js';

export interface PageRequest {
  /** e.g. https://storage.googleapis.com or a test server's http://127.0.0.1:PORT */
  readonly apiBase: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly pageSize: number;
  /** Inclusive; null lists from the prefix on. */
  readonly startOffset: string | null;
  /** Exclusive; null lists to the prefix's end. */
  readonly endOffset: string | null;
  readonly pageToken?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxRetries: number;
  readonly signal: AbortSignal;
}

export interface ListedObject {
  /** Relative to the listed prefix, POSIX. */
  readonly path: string;
  readonly size: number;
  /** Changes whenever the object is replaced, even with the same bytes (int64, decimal). */
  readonly generation: string;
  /** base64, as GCS reports it; absent for composite objects. */
  readonly md5?: string;
  /** base64 of the big-endian CRC32C, as GCS reports it. */
  readonly crc32c?: string;
}

export interface Page {
  /** In the service's order; paths relative to the prefix asked for. */
  readonly items: readonly ListedObject[];
  readonly nextPageToken?: string;
}

/** Only what an observation needs: a full object resource is about 15 times larger. */
const FIELDS = 'items(name,generation,size,md5Hash,crc32c),nextPageToken';
/** A request that neither answers nor fails in this long is a failed attempt. */
const ATTEMPT_TIMEOUT_MS = 30_000;
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 4_000;
// Idle keep-alive sockets are unref'd by the agents: they never hold the process open.
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

export function pageUrl(request: PageRequest): string {
  const query = new URLSearchParams({
    prefix: request.prefix,
    maxResults: String(request.pageSize),
    fields: FIELDS,
  });
  if (request.startOffset !== null) query.set('startOffset', request.startOffset);
  if (request.endOffset !== null) query.set('endOffset', request.endOffset);
  if (request.pageToken !== undefined) query.set('pageToken', request.pageToken);
  return `${request.apiBase}/storage/v1/b/${encodeURIComponent(request.bucket)}/o?${query}`;
}

/**
 * Retries what a later attempt can fix (429, 408, 5xx, a connection dropped or a body cut short),
 * with exponential backoff and jitter as GCS asks; anything else fails at once.
 */
export async function fetchPage(request: PageRequest): Promise<Result<Page, string>> {
  const url = pageUrl(request);
  let lastCause = '';
  for (let attempt = 0; attempt <= request.maxRetries; attempt++) {
    if (attempt > 0) {
      const backoff = Math.min(FIRST_BACKOFF_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
      if (!(await sleep(backoff * (0.5 + Math.random() / 2), request.signal))) break;
    }
    if (request.signal.aborted) break;
    const outcome = await attemptPage(url, request);
    if (outcome.kind === 'page') return ok(outcome.page);
    lastCause = outcome.cause;
    if (outcome.kind === 'final') return err(lastCause);
  }
  if (request.signal.aborted) return err(abortCause(request.signal));
  const tries = request.maxRetries + 1;
  return err(`${lastCause} (${tries} ${tries === 1 ? 'attempt' : 'attempts'})`);
}

type Attempt =
  | { kind: 'page'; page: Page }
  | { kind: 'retry'; cause: string }
  | { kind: 'final'; cause: string };

async function attemptPage(url: string, request: PageRequest): Promise<Attempt> {
  const signal = AbortSignal.any([request.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]);
  let status: number;
  let body: string;
  try {
    ({ status, body } = await get(url, request.headers, signal));
  } catch (error) {
    if (request.signal.aborted) return { kind: 'final', cause: abortCause(request.signal) };
    return { kind: 'retry', cause: networkCause(error) };
  }
  if (status !== 200) {
    const cause = `HTTP ${status}${serviceMessage(body)}`;
    const transient = status === 408 || status === 429 || status >= 500;
    return { kind: transient ? 'retry' : 'final', cause };
  }
  const page = parsePage(body, request.prefix);
  return typeof page === 'string'
    ? { kind: 'final', cause: `malformed listing page: ${page}` }
    : { kind: 'page', page };
}

/** Rejects when the connection fails or ends before the whole answer arrived. */
function get(
  url: string,
  headers: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const https = url.startsWith('https:');
    const send = https ? httpsRequest : httpRequest;
    // GCS compresses an answer only for a client that says so in both headers. A page of 1000
    // web-app uploads with distinct md5s is 178 kB of JSON, 53 kB gzipped: 43 MB or 13 MB for
    // 241,605 objects, which a real network feels.
    const all = { ...headers, 'Accept-Encoding': 'gzip', 'User-Agent': 'pipe (gzip)' };
    const options = { headers: all, signal, agent: https ? httpsAgent : httpAgent };
    const req = send(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => {}); // reported by 'close' below, with `complete` false
      res.on('close', () => {
        if (res.complete) {
          try {
            const bytes = Buffer.concat(chunks);
            const gzip = res.headers['content-encoding'] === 'gzip';
            const body = (gzip ? gunzipSync(bytes) : bytes).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body });
          } catch (error) {
            reject(new Error(`the compressed answer does not unpack: ${(error as Error).message}`));
          }
        } else {
          const got = chunks.reduce((n, c) => n + c.length, 0);
          const declared = res.headers['content-length'];
          reject(new Error(`the answer ended after ${got} of ${declared ?? '?'} bytes`));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The page, or what is wrong with it (a name outside `prefix` too). */
export function parsePage(body: string, prefix: string): Page | string {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return `not JSON (${body.length} bytes starting ${JSON.stringify(body.slice(0, 40))})`;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return 'not a JSON object';
  const { items = [], nextPageToken } = json as { items?: unknown; nextPageToken?: unknown };
  if (!Array.isArray(items)) return '"items" is not a list';
  if (nextPageToken !== undefined && (typeof nextPageToken !== 'string' || nextPageToken === ''))
    return '"nextPageToken" is not a non-empty string';
  const out: ListedObject[] = [];
  for (const [index, item] of items.entries()) {
    const object = readObject(item, prefix);
    if (typeof object === 'string') return `items[${index}]: ${object}`;
    out.push(object);
  }
  return nextPageToken === undefined ? { items: out } : { items: out, nextPageToken };
}

function readObject(item: unknown, prefix: string): ListedObject | string {
  if (item === null || typeof item !== 'object') return 'not an object';
  const { name, size, generation, md5Hash, crc32c } = item as Record<string, unknown>;
  if (typeof name !== 'string' || name === '') return 'no "name"';
  if (!name.startsWith(prefix)) return `${name} is not under ${prefix}`;
  // int64 fields travel as decimal strings in the JSON API.
  if (typeof size !== 'string' || !/^\d+$/.test(size)) return `${name}: "size" is not an int64`;
  if (typeof generation !== 'string' || !/^\d+$/.test(generation))
    return `${name}: "generation" is not an int64`;
  if (md5Hash !== undefined && typeof md5Hash !== 'string') return `${name}: "md5Hash" not text`;
  if (crc32c !== undefined && typeof crc32c !== 'string') return `${name}: "crc32c" not text`;
  // Built in place: 241,605 of these for one bucket, and spreads would double the garbage.
  const object: { -readonly [K in keyof ListedObject]: ListedObject[K] } = {
    path: name.slice(prefix.length),
    size: Number(size),
    generation,
  };
  if (md5Hash !== undefined) object.md5 = md5Hash;
  if (crc32c !== undefined) object.crc32c = crc32c;
  return object;
}

function serviceMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string' && message !== '') return `: ${message}`;
  } catch {
    // not the service's JSON error shape (a proxy's page): fall through to the raw text
  }
  const text = body.trim().slice(0, 120);
  return text === '' ? '' : `: ${text}`;
}

function networkCause(error: unknown): string {
  const e = error as {
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  if (e.name === 'TimeoutError') return `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s`;
  const detail = e.cause?.code ?? e.cause?.message;
  return `connection failed: ${e.message ?? String(error)}${detail === undefined ? '' : ` (${detail})`}`;
}

function abortCause(signal: AbortSignal): string {
  const reason = signal.reason as { message?: string } | undefined;
  return `aborted${reason?.message === undefined ? '' : ` (${reason.message})`}`;
}

/** false when `signal` aborted the wait. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
