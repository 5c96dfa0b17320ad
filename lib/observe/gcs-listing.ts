// Observes a bucket prefix by its listing: name, generation, size, md5 and crc32c of every object,
// with several pages in flight. GCS hands out one range's pages one after another (each token names
// the next), so the lister cuts the key space into ranges (gcs-key-ranges.ts) as it learns it: the
// first page shows what names look like; whenever a page comes back full while requests could be
// in flight, the rest of its range is cut into as many pieces as there are idle slots. Pieces that
// turn out empty cost one request; full ones are cut again.
//
// Plain HTTP against the JSON API (gcs-page.ts) rather than @google-cloud/storage: the client asks
// for whole object resources, builds a File object per name (241,605 of them for the web app's
// bucket: 11 s of CPU in bench/gcs-listing.ts) and pages one after another; here a page asks only
// for the fields above and is parsed once into the objects returned.
import { err, ok, type Result } from '../util/result.js';
import { commonPrefixLength, KeyAlphabet, splitPoints } from './gcs-key-ranges.js';
import { fetchPage, type ListedObject, type Page } from './gcs-page.js';

export type { ListedObject } from './gcs-page.js';

export interface ListGcsOptions {
  /**
   * A JSON API endpoint without credentials (a test server, an emulator), like PIPE_GCS_ENDPOINT;
   * unset: STORAGE_EMULATOR_HOST if set, else https://storage.googleapis.com with Application
   * Default Credentials.
   */
  readonly endpoint?: string;
  /** Objects per page, at most 1000 (the service's maximum and the default). */
  readonly pageSize?: number;
  /** Pages in flight at most. */
  readonly concurrency?: number;
  /** Further attempts of one page after a transient failure (429, 5xx, a dropped connection). */
  readonly maxRetries?: number;
  readonly signal?: AbortSignal;
}

/** Measured on the test server at 20 ms a request (bench/results/gcs-listing.md). */
export const DEFAULT_CONCURRENCY = 32;
const DEFAULT_MAX_RETRIES = 4;
/** Names of a page whose characters are learnt, and of a listing. */
const SAMPLE_PER_PAGE = 64;
const MAX_LEARNT = 4096;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/**
 * Every object under `gs://bucket/prefix` (the prefix is a folder: `gs://b/uploads` lists
 * `uploads/...`), sorted by path in code-unit order. Any failure is an `err` naming the URL and the
 * cause, never a partial listing.
 */
export async function listGcsPrefix(
  url: string,
  options: ListGcsOptions = {},
): Promise<Result<readonly ListedObject[], string>> {
  const m = /^gs:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (m === null || !BUCKET.test(m[1]!))
    return err(`${url} is not gs://<bucket>[/<prefix>] (e.g. gs://my-uploads/sessions)`);
  const bucket = m[1]!;
  const raw = m[2] ?? '';
  const prefix = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
  const api = apiBase(options.endpoint);
  const where = `gs://${bucket}/${prefix}${api.emulator ? ` at ${api.base}` : ''}`;
  const fail = (cause: string) => err(`cannot list ${where}: ${cause}`);
  const pageSize = options.pageSize ?? 1000;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 1000))
    return fail(`page size ${pageSize} is not 1..1000`);
  if (!(Number.isInteger(concurrency) && concurrency >= 1))
    return fail(`concurrency ${concurrency} is not a positive integer`);
  const headers = api.emulator ? {} : await credentials();
  if (typeof headers === 'string') return fail(headers);
  const stop = new AbortController();
  const signal =
    options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  const listing = new Listing(prefix, concurrency, stop, (range, pageToken) =>
    fetchPage({
      apiBase: api.base,
      bucket,
      prefix,
      pageSize,
      startOffset: range.start,
      endOffset: range.end,
      ...(pageToken === undefined ? {} : { pageToken }),
      headers,
      maxRetries: options.maxRetries ?? DEFAULT_MAX_RETRIES,
      signal,
    }),
  );
  const result = await listing.run();
  return result.ok ? result : fail(result.error);
}

/** One piece of the key space: names n with start <= n < end (start excluded when `exclusive`). */
interface Range {
  readonly start: string | null;
  readonly exclusive: boolean;
  readonly end: string | null;
  /** What the range has listed so far, page by page, in the service's order. */
  readonly pages: Array<readonly ListedObject[]>;
}

type GetPage = (range: Range, pageToken?: string) => Promise<Result<Page, string>>;

class Listing {
  readonly #ranges: Range[] = [];
  readonly #queue: Array<{ range: Range; pageToken?: string }> = [];
  readonly #alphabet = new KeyAlphabet();
  #inFlight = 0;
  #learnt = 0;
  #failure: string | undefined;
  #finish: (result: Result<readonly ListedObject[], string>) => void = () => {};

  constructor(
    readonly prefix: string,
    readonly concurrency: number,
    /** Aborted on the first failure: the pages still in flight are not waited for. */
    readonly stop: AbortController,
    readonly getPage: GetPage,
  ) {}

  run(): Promise<Result<readonly ListedObject[], string>> {
    return new Promise((resolve) => {
      this.#finish = resolve;
      this.#enqueue({ start: null, exclusive: false, end: null, pages: [] });
      this.#pump();
    });
  }

  #enqueue(range: Range): void {
    this.#ranges.push(range);
    this.#queue.push({ range });
  }

  #pump(): void {
    while (this.#failure === undefined && this.#inFlight < this.concurrency) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      this.#inFlight++;
      this.getPage(next.range, next.pageToken).then(
        (page) => this.#settle(next.range, page),
        (error: unknown) => this.#settle(next.range, err(String(error))),
      );
    }
    if (this.#failure !== undefined) {
      this.stop.abort();
      this.#finish(err(this.#failure));
    } else if (this.#inFlight === 0 && this.#queue.length === 0) {
      this.#finish(this.#assemble());
    }
  }

  #settle(range: Range, page: Result<Page, string>): void {
    this.#inFlight--;
    if (this.#failure === undefined) {
      const problem = page.ok ? this.#take(range, page.value) : page.error;
      if (problem !== undefined) this.#failure = problem;
    }
    this.#pump();
  }

  /** Files the page's objects and decides what to ask next; a message when the page is wrong. */
  #take(range: Range, page: Page): string | undefined {
    const keep = this.prefix.length;
    let items = page.items;
    // startOffset is inclusive: an exclusive range's first answer may repeat its start.
    if (range.exclusive && items[0]?.path === range.start!.slice(keep)) items = items.slice(1);
    const first = items[0];
    const last = items.at(-1);
    if (first !== undefined && last !== undefined) {
      // The service lists in order: in range at both ends is in range throughout (and a service
      // that lists out of order is caught as a name listed twice, once the ranges are joined).
      for (const name of [this.prefix + first.path, this.prefix + last.path]) {
        if (
          (range.start !== null && name < range.start) ||
          (range.end !== null && name >= range.end)
        )
          return `the service listed ${JSON.stringify(name)} outside the range asked for`;
      }
      range.pages.push(items);
    }
    if (page.nextPageToken === undefined) return undefined;
    const lastName = page.items.length > 0 ? this.prefix + page.items.at(-1)!.path : undefined;
    // Slots idle now that this request is done: the rest of the range fills them all.
    const idle = this.concurrency - this.#inFlight - this.#queue.length;
    if (lastName !== undefined && idle >= 2) {
      this.#learn(page.items);
      const cuts = splitPoints(
        lastName,
        range.end,
        keep,
        commonPrefixLength(this.prefix + page.items[0]!.path, lastName),
        this.#alphabet,
        idle - 1,
      );
      if (cuts.length > 0) {
        const starts = [lastName, ...cuts];
        starts.forEach((start, k) => {
          this.#enqueue({ start, exclusive: k === 0, end: cuts[k] ?? range.end, pages: [] });
        });
        return undefined;
      }
    }
    this.#queue.unshift({ range, pageToken: page.nextPageToken });
    return undefined;
  }

  /** A sample of each page is enough to learn what names look like, and costs far less. */
  #learn(items: readonly ListedObject[]): void {
    if (this.#learnt >= MAX_LEARNT) return;
    const step = Math.max(1, Math.floor(items.length / SAMPLE_PER_PAGE));
    const sample: string[] = [];
    for (let i = 0; i < items.length; i += step) sample.push(items[i]!.path);
    sample.push(items.at(-1)!.path);
    this.#alphabet.observe(sample, 0);
    this.#learnt += sample.length;
  }

  #assemble(): Result<readonly ListedObject[], string> {
    // Ranges never overlap, so in the order of their starts they give the service's order.
    const ranges = [...this.#ranges].sort((a, b) => compareStarts(a.start, b.start));
    const out: ListedObject[] = [];
    for (const range of ranges) {
      for (const page of range.pages) {
        for (const object of page) {
          // '' is the placeholder a console makes for the "folder" itself.
          if (object.path !== '') out.push(object);
        }
      }
    }
    // The service's order is UTF-8 bytes; it differs from code units only around surrogates.
    if (!isSorted(out)) out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (let i = 1; i < out.length; i++) {
      if (out[i]!.path === out[i - 1]!.path)
        return err(`the service listed ${JSON.stringify(out[i]!.path)} twice`);
    }
    return ok(out);
  }
}

function compareStarts(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function isSorted(objects: readonly ListedObject[]): boolean {
  for (let i = 1; i < objects.length; i++)
    if (objects[i - 1]!.path > objects[i]!.path) return false;
  return true;
}

function apiBase(endpoint: string | undefined): { base: string; emulator: boolean } {
  const chosen =
    endpoint !== undefined && endpoint !== '' ? endpoint : process.env.STORAGE_EMULATOR_HOST;
  if (chosen === undefined || chosen === '')
    return { base: 'https://storage.googleapis.com', emulator: false };
  // STORAGE_EMULATOR_HOST may be a bare host:port or carry the /storage/v1 path.
  const withScheme = /^https?:\/\//.test(chosen) ? chosen : `http://${chosen}`;
  return { base: withScheme.replace(/\/+$/, '').replace(/\/storage\/v1$/, ''), emulator: true };
}

/**
 * An Authorization header from Application Default Credentials, through the auth client that
 * @google-cloud/storage already carries; loaded only when a real bucket is listed.
 */
async function credentials(): Promise<Record<string, string> | string> {
  try {
    const { Storage } = await import('@google-cloud/storage');
    const headers = (await new Storage().authClient.getRequestHeaders()) as unknown as
      | Record<string, string>
      | Headers;
    const value =
      headers instanceof Headers
        ? headers.get('authorization')
        : (headers.Authorization ?? headers.authorization);
    return value === undefined || value === null
      ? 'no credentials (run `gcloud auth application-default login`)'
      : { Authorization: value };
  } catch (error) {
    return `no credentials: ${(error as Error).message}`;
  }
}
