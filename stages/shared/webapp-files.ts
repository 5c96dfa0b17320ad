// File-level checks of web-app uploads, before DuckDB reads their events: each file is read
// (gunzipped) up to the size limits, parsed, checked for keys given twice and validated against
// config/upload.schema.json; one with no events is empty. A file that fails is
// quarantined: it becomes one reject (rule per file) and its events are never read. Fields the
// schema does not know are tolerated and counted. Duplicate uploads (same session id and same
// content) keep the first by path; the same session id with other content keeps the first too.
// Checking one file (checkUpload) needs nothing but the file, so slices of the list are checked in
// parallel (webapp-screening.ts); which of two uploads is "first" needs the whole list, so that is
// decided afterwards, in path order (resolveUploads).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { gunzipCapped, readCapped } from './capped-read.js';
import { tooLargeDetail, type FileReject, type UploadLimits } from './file-rejects.js';
import { firstDuplicateKey, keyColons, parsedKeys } from './json-keys.js';
import * as ahead from './upload-schema-validator.js';

/** One file's verdict, before duplicates are known. `unknown` counts the fields the schema does not know. */
export type CheckedUpload =
  | {
      readonly kind: 'broken';
      readonly rule: FileReject['rule'];
      readonly detail: string;
      /** Known when the document was read (empty_upload). */
      readonly userId?: string;
      readonly sessionId?: string;
    }
  | {
      readonly kind: 'valid';
      readonly userId: string;
      readonly sessionId: string;
      readonly events: number;
      readonly unknown: Record<string, number> | null;
    };

export interface WebappScreening {
  readonly rejects: FileReject[];
  /** Unknown field path (`ab_bucket`, `client.x`, `events[].location`) -> occurrences, in accepted files. */
  readonly unknownFields: Record<string, number>;
  /** Indexes (into the sorted file list) of valid files that lost to an earlier upload of their session. */
  readonly superseded: number[];
  /** Events in the accepted files (what DuckDB unnests). */
  readonly events: number;
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
}

/**
 * Counts, per field path, the fields of `value` its schema node does not list. Runs on every event
 * of every accepted upload (~21M at 10M keystrokes), so it walks keys with for-in, builds a path
 * only for an unknown field or a nested object, and does not descend into strings and numbers:
 * with Object.entries and a path per field it was about a quarter of the screening's time. The
 * keys come in the same order as Object.entries gives them (own enumerable keys of a parsed
 * document), which the summary's key order depends on.
 */
/**
 * Field path -> occurrences, with no prototype: a field may be called `__proto__` or `constructor`,
 * and on a plain object counting it would set the prototype or add 1 to a function.
 */
function fieldCounts(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/**
 * Also returns the number of keys in `value`'s objects (json-keys.ts: a key given twice is found
 * by comparing it with the text), counted in the same walk rather than a second one.
 */
function countUnknown(
  value: unknown,
  schema: SchemaNode,
  path: string,
  counts: Record<string, number>,
): number {
  if (Array.isArray(value) && schema.items) {
    const at = `${path}[]`;
    let keys = 0;
    for (const item of value) keys += countUnknown(item, schema.items, at, counts);
    return keys;
  }
  if (value === null || typeof value !== 'object') return 0;
  if (!schema.properties) return parsedKeys(value);
  const known = schema.properties;
  const fields = value as Record<string, unknown>;
  let keys = 0;
  for (const key in fields) {
    keys++;
    // Own properties only: a field named `constructor` or `toString` is not the schema's.
    const sub = Object.hasOwn(known, key) ? known[key] : undefined;
    const child = fields[key];
    if (sub === undefined) {
      const at = path === '' ? key : `${path}.${key}`;
      counts[at] = (counts[at] ?? 0) + 1;
      keys += parsedKeys(child);
      continue;
    }
    if (child !== null && typeof child === 'object')
      keys += countUnknown(child, sub, path === '' ? key : `${path}.${key}`, counts);
  }
  return keys;
}

export interface UploadChecker {
  readonly validate: ValidateFunction;
  readonly schema: SchemaNode;
  readonly utf8: InstanceType<typeof TextDecoder>;
  readonly limits: UploadLimits;
}

// ajv is loaded (CommonJS, by require: no export-name scan) only by a run that checks a web-app
// upload: ~0.1 s with the schema's compile, a share of an incremental clean of Aalto files.
const require = createRequire(import.meta.url);

/**
 * The schema's validator, once per thread (ajv's compiled function cannot cross threads): ajv's
 * code for the committed config/upload.schema.json, compiled with the options below by `npm run
 * generate:schema` (the compile was ~50 ms of every run that checks a web-app upload, a one-upload
 * build's included), when the schema is the one it was made from (the sha256 of its JSON text, as
 * the generator takes it); else compiled by ajv here. The same function either way.
 */
function compiledSchema(schema: SchemaNode): ValidateFunction {
  const digest = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
  if (ahead.schemaDigest === digest) return ahead.validate as ValidateFunction;
  const { Ajv } = require('ajv') as typeof import('ajv');
  return new Ajv({ allErrors: false, strict: false }).compile(schema);
}

export function uploadChecker(schemaPath: string, limits: UploadLimits): UploadChecker {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as SchemaNode;
  return {
    validate: compiledSchema(schema),
    schema,
    utf8: new TextDecoder('utf-8', { fatal: true }),
    limits,
  };
}

/** The fields of a document the schema accepted that staging reads. */
export interface ValidUpload {
  readonly session_id: string;
  readonly user_id: string;
  readonly prompt: string;
  readonly text: string;
  readonly client: { readonly device: string };
  readonly time_origin: number;
  readonly events: readonly unknown[];
}

/** Checks one upload; `text` (its JSON text) and `doc` (parsed) when it is valid. */
export function checkUpload(
  path: string,
  checker: UploadChecker,
): { checked: CheckedUpload; text?: string; doc?: ValidUpload } {
  const broken = (
    rule: FileReject['rule'],
    detail: string,
    ids: { userId?: string; sessionId?: string } = {},
  ) => ({
    checked: { kind: 'broken', rule, detail, ...ids } as const,
  });
  const { maxUploadBytes, maxDecompressedBytes } = checker.limits;
  const stored = readCapped(path, maxUploadBytes);
  if (!stored.ok) return broken('upload_too_large', tooLargeDetail(stored.size, maxUploadBytes));
  let bytes = stored.bytes;
  if (path.endsWith('.gz')) {
    try {
      const inflated = gunzipCapped(bytes, maxDecompressedBytes);
      if (!inflated.ok)
        return broken(
          'decompressed_too_large',
          `more than clean.max_decompressed_bytes (${maxDecompressedBytes}) after gunzip (${bytes.length} bytes compressed)`,
        );
      bytes = inflated.bytes;
    } catch (error) {
      return broken('unreadable_gzip', (error as Error).message);
    }
  }
  let text: string;
  let doc: unknown;
  try {
    text = checker.utf8.decode(bytes); // JSON is UTF-8; a lenient decode would hide bad bytes as U+FFFD
  } catch {
    return broken('invalid_json', `not UTF-8 text (${bytes.length} bytes)`);
  }
  try {
    doc = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    // Node says "Unexpected end of JSON input" (or "Unterminated string") when the text stops early.
    const truncated = /end of JSON input|Unterminated string/.test(message);
    return broken(
      truncated ? 'truncated_json' : 'invalid_json',
      `${message} (${bytes.length} bytes)`,
    );
  }
  if (!checker.validate(doc)) {
    // A key given twice explains a mismatch better (JSON.parse kept the last); rare, so scanned.
    const twice = firstDuplicateKey(text);
    if (twice !== null) return broken('duplicate_key', duplicateDetail(twice));
    const first = checker.validate.errors?.[0];
    return broken(
      'schema_mismatch',
      `${first?.instancePath || '/'} ${first?.message ?? 'does not match'} (config/upload.schema.json)`,
    );
  }
  const valid = doc as ValidUpload;
  const unknown = fieldCounts();
  const keys = countUnknown(doc, checker.schema, '', unknown);
  if (keyColons(text) !== keys) {
    const twice = firstDuplicateKey(text);
    if (twice !== null) return broken('duplicate_key', duplicateDetail(twice));
  }
  if (valid.events.length === 0)
    return broken('empty_upload', 'no events (config/upload.schema.json allows an empty list)', {
      userId: valid.user_id,
      sessionId: valid.session_id,
    });
  const checked = {
    kind: 'valid',
    userId: valid.user_id,
    sessionId: valid.session_id,
    events: valid.events.length,
    unknown: Object.keys(unknown).length > 0 ? unknown : null,
  } as const;
  return { checked, text, doc: valid };
}

function duplicateDetail(twice: { pointer: string; key: string }): string {
  return `key ${JSON.stringify(twice.key)} appears twice in the object at ${twice.pointer} (which one counts is ambiguous)`;
}

/**
 * SHA-256 of an upload's content (gunzipped): tells a duplicate (same) from a conflict (other).
 * Only uploads that passed checkUpload, so within the limits (read capped all the same).
 */
export function uploadDigest(path: string, limits: UploadLimits): string {
  const stored = readCapped(path, limits.maxUploadBytes);
  const inflated =
    stored.ok && path.endsWith('.gz')
      ? gunzipCapped(stored.bytes, limits.maxDecompressedBytes)
      : stored;
  if (!inflated.ok) throw new Error(`bug: ${path} passed the size limits once and not now`);
  return createHash('sha256').update(inflated.bytes).digest('hex');
}

/**
 * Walks the verdicts in path order (`files` sorted, `checked[i]` for `files[i]`): the first valid
 * upload of a session is kept, later ones become duplicate_upload (same bytes) or
 * session_id_conflict (other bytes). Unknown fields are counted in kept files only, in path order,
 * so the summary's keys come out in the same order however the files were split.
 */
export function resolveUploads(
  files: readonly string[],
  checked: readonly CheckedUpload[],
  digestOf: (index: number) => string,
): WebappScreening {
  const rejects: FileReject[] = [];
  const unknownFields = fieldCounts();
  const superseded: number[] = [];
  // Digests only where a session id repeats (rare): hashing every upload cost ~10% of screening.
  const seen = new Map<string, { index: number; file: string; digest?: string }>();
  let events = 0;
  for (const [index, file] of files.entries()) {
    const c = checked[index];
    if (c === undefined) throw new Error(`bug: no screening verdict for ${file}`);
    if (c.kind === 'broken') {
      rejects.push({
        rule: c.rule,
        source: 'webapp',
        sourceFile: file,
        userId: c.userId ?? null,
        sessionId: c.sessionId ?? null,
        detail: c.detail,
      });
      continue;
    }
    const earlier = seen.get(c.sessionId);
    if (earlier !== undefined) {
      earlier.digest ??= digestOf(earlier.index);
      const same = earlier.digest === digestOf(index);
      rejects.push({
        rule: same ? 'duplicate_upload' : 'session_id_conflict',
        source: 'webapp',
        sourceFile: file,
        userId: c.userId,
        sessionId: c.sessionId,
        detail: `${same ? 'same content as' : 'other content than'} ${earlier.file}`,
      });
      superseded.push(index);
      continue;
    }
    seen.set(c.sessionId, { index, file });
    events += c.events;
    for (const [field, n] of Object.entries(c.unknown ?? {}))
      unknownFields[field] = (unknownFields[field] ?? 0) + n;
  }
  return { rejects, unknownFields, superseded, events };
}
