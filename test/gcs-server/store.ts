// The GCS server fixture's state: live objects with generations, their bytes on disk, generation
// preconditions and listing. HTTP lives in server.ts. One process, one event loop: a precondition
// check and the commit that follows it run without an await between them, so they are atomic.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checksums } from './checksums.js';

export interface StoredObject {
  readonly bucket: string;
  readonly name: string;
  /** int64 as a decimal string, like the service; strictly increasing across the server. */
  readonly generation: string;
  readonly metageneration: string;
  readonly size: number;
  readonly md5Hash: string;
  readonly crc32c: string;
  readonly contentType: string;
  readonly timeCreated: string;
  readonly dataPath: string;
  /** Bulk fixture objects share one bytes file: replacing or deleting one must not unlink it. */
  readonly sharedData?: true;
}

/** A JSON API error: status plus the `reason` the service puts in errors[0]. */
export interface ApiFailure {
  readonly status: number;
  readonly reason: string;
  readonly message: string;
}

export type Preconditions = Partial<
  Record<
    | 'ifGenerationMatch'
    | 'ifGenerationNotMatch'
    | 'ifMetagenerationMatch'
    | 'ifMetagenerationNotMatch',
    string
  >
>;

export function preconditionsOf(query: URLSearchParams): Preconditions {
  const out: Record<string, string> = {};
  for (const key of [
    'ifGenerationMatch',
    'ifGenerationNotMatch',
    'ifMetagenerationMatch',
    'ifMetagenerationNotMatch',
  ]) {
    const value = query.get(key);
    if (value !== null) out[key] = value;
  }
  return out;
}

const CONDITION_NOT_MET: ApiFailure = {
  status: 412,
  reason: 'conditionNotMet',
  message: 'At least one of the pre-conditions you specified did not hold.',
};

export class Store {
  readonly #objects = new Map<string, StoredObject>();
  /** Fault injection: object names whose next upload is stored with its first byte flipped. */
  readonly corruptNextUpload = new Set<string>();
  readonly #buckets: Set<string>;
  /** Per bucket, its live names sorted; dropped when a name comes or goes, rebuilt on a listing. */
  readonly #sortedNames = new Map<string, string[]>();
  #lastGeneration = 0n;

  constructor(
    readonly dataDir: string,
    buckets: readonly string[],
  ) {
    this.#buckets = new Set(buckets);
  }

  hasBucket(bucket: string): boolean {
    return this.#buckets.has(bucket);
  }

  get(bucket: string, name: string): StoredObject | undefined {
    return this.#objects.get(key(bucket, name));
  }

  /** Generations look like the service's (microseconds since the epoch) and never repeat. */
  #nextGeneration(): string {
    const now = BigInt(Date.now()) * 1000n;
    this.#lastGeneration = now > this.#lastGeneration ? now : this.#lastGeneration + 1n;
    return String(this.#lastGeneration);
  }

  /** null when the conditions hold for `existing` (undefined: no live object, generation 0). */
  check(existing: StoredObject | undefined, conditions: Preconditions): ApiFailure | null {
    const generation = existing?.generation ?? '0';
    const {
      ifGenerationMatch,
      ifGenerationNotMatch,
      ifMetagenerationMatch,
      ifMetagenerationNotMatch,
    } = conditions;
    if (ifGenerationMatch !== undefined && ifGenerationMatch !== generation)
      return CONDITION_NOT_MET;
    if (ifGenerationNotMatch !== undefined && ifGenerationNotMatch === generation)
      return CONDITION_NOT_MET;
    if (ifMetagenerationMatch !== undefined && ifMetagenerationMatch !== existing?.metageneration)
      return CONDITION_NOT_MET;
    if (
      ifMetagenerationNotMatch !== undefined &&
      existing !== undefined &&
      ifMetagenerationNotMatch === existing.metageneration
    ) {
      return CONDITION_NOT_MET;
    }
    return null;
  }

  /**
   * Makes the complete upload at `tempPath` the live object if `conditions` hold right now.
   * Synchronous on purpose (see the file comment). The replaced generation's bytes are unlinked;
   * a download already reading them keeps its open file.
   */
  commit(
    bucket: string,
    name: string,
    tempPath: string,
    facts: { size: number; md5Hash: string; crc32c: string; contentType: string },
    conditions: Preconditions,
  ): StoredObject | ApiFailure {
    const existing = this.get(bucket, name);
    const failure = this.check(existing, conditions);
    if (failure !== null) {
      rmSync(tempPath, { force: true });
      return failure;
    }
    const generation = this.#nextGeneration();
    const dataPath = join(this.dataDir, generation);
    renameSync(tempPath, dataPath);
    const object: StoredObject = {
      bucket,
      name,
      generation,
      metageneration: '1',
      timeCreated: new Date().toISOString(),
      dataPath,
      ...facts,
    };
    this.#objects.set(key(bucket, name), object);
    if (existing === undefined) this.#sortedNames.delete(bucket);
    else unlinkData(existing);
    return object;
  }

  /**
   * Fixture only: creates (or replaces) many objects at once, all holding `content` from one
   * shared file, so a test or benchmark can fill a bucket with 100,000s of objects in a second.
   */
  bulkCreate(bucket: string, names: readonly string[], content: Buffer): number {
    const sums = new Checksums();
    sums.update(content);
    const { md5Hash, crc32c } = sums.digest();
    const dataPath = join(this.dataDir, `bulk-${this.#nextGeneration()}`);
    writeFileSync(dataPath, content);
    const timeCreated = new Date().toISOString();
    for (const name of names) {
      const existing = this.get(bucket, name);
      if (existing !== undefined) unlinkData(existing);
      this.#objects.set(key(bucket, name), {
        bucket,
        name,
        generation: this.#nextGeneration(),
        metageneration: '1',
        size: content.length,
        md5Hash,
        crc32c,
        contentType: 'application/json',
        timeCreated,
        dataPath,
        sharedData: true,
      });
    }
    this.#sortedNames.delete(bucket);
    return names.length;
  }

  delete(bucket: string, name: string, conditions: Preconditions): ApiFailure | null {
    const existing = this.get(bucket, name);
    if (existing === undefined) return notFound(bucket, name);
    const failure = this.check(existing, conditions);
    if (failure !== null) return failure;
    this.#objects.delete(key(bucket, name));
    this.#sortedNames.delete(bucket);
    unlinkData(existing);
    return null;
  }

  /**
   * One page of a listing, in name order (code units, as the service sorts). With a delimiter,
   * names with the delimiter after the prefix fold into `prefixes`; items and prefixes both count
   * toward maxResults. startOffset (inclusive) and endOffset (exclusive) bound the names listed,
   * as the JSON API's do. The page token is the last name or prefix returned, base64-encoded.
   */
  list(bucket: string, options: ListOptions) {
    const after =
      options.pageToken === '' ? '' : Buffer.from(options.pageToken, 'base64').toString('utf8');
    const names = this.#sorted(bucket);
    let from = options.prefix;
    if (options.startOffset > from) from = options.startOffset;
    if (after > from) from = after;
    const entries: Array<
      { kind: 'item'; object: StoredObject } | { kind: 'prefix'; prefix: string }
    > = [];
    const seenPrefixes = new Set<string>();
    // One entry past the page tells whether a next page exists.
    for (let i = lowerBound(names, from); i < names.length; i++) {
      const name = names[i]!;
      if (!name.startsWith(options.prefix)) break; // sorted: past the prefix, nothing matches
      if (options.endOffset !== '' && name >= options.endOffset) break;
      const rest = name.slice(options.prefix.length);
      const cut = options.delimiter === '' ? -1 : rest.indexOf(options.delimiter);
      const entryName =
        cut < 0 ? name : options.prefix + rest.slice(0, cut + options.delimiter.length);
      if (after !== '' && entryName <= after) continue;
      if (cut >= 0) {
        if (seenPrefixes.has(entryName)) continue;
        seenPrefixes.add(entryName);
        entries.push({ kind: 'prefix', prefix: entryName });
      } else {
        entries.push({ kind: 'item', object: this.get(bucket, name)! });
      }
      if (entries.length > options.maxResults) break;
    }
    const page = entries.slice(0, options.maxResults);
    const last = page.at(-1);
    const lastName =
      last === undefined ? '' : last.kind === 'item' ? last.object.name : last.prefix;
    return {
      items: page.flatMap((e) => (e.kind === 'item' ? [e.object] : [])),
      prefixes: page.flatMap((e) => (e.kind === 'prefix' ? [e.prefix] : [])),
      nextPageToken:
        entries.length > page.length ? Buffer.from(lastName, 'utf8').toString('base64') : undefined,
    };
  }

  #sorted(bucket: string): string[] {
    let names = this.#sortedNames.get(bucket);
    if (names === undefined) {
      names = [];
      for (const object of this.#objects.values())
        if (object.bucket === bucket) names.push(object.name);
      names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.#sortedNames.set(bucket, names);
    }
    return names;
  }
}

export interface ListOptions {
  readonly prefix: string;
  readonly delimiter: string;
  readonly pageToken: string;
  readonly maxResults: number;
  /** '' for none. */
  readonly startOffset: string;
  /** '' for none. */
  readonly endOffset: string;
}

/** The first index whose name is >= `name` (code-unit order). */
function lowerBound(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function unlinkData(object: StoredObject): void {
  if (object.sharedData !== true) rmSync(object.dataPath, { force: true });
}

export function notFound(bucket: string, name: string): ApiFailure {
  return { status: 404, reason: 'notFound', message: `No such object: ${bucket}/${name}` };
}

function key(bucket: string, name: string): string {
  return `${bucket}\u0000${name}`;
}
