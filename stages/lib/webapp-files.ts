// File-level checks of web-app uploads, before DuckDB reads their events: each file is read
// (gunzipped), parsed and validated against config/upload.schema.json. A file that fails is
// quarantined: it becomes one reject (rule per file) and its events are never read. Fields the
// schema does not know are tolerated and counted. Duplicate uploads (same session id and same
// content) keep the first by path; the same session id with other content keeps the first too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';

export interface FileReject {
  readonly rule: 'unreadable_gzip' | 'truncated_json' | 'invalid_json' | 'schema_mismatch' | 'duplicate_upload' | 'session_id_conflict';
  readonly sourceFile: string;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly detail: string;
}

export interface WebappScreening {
  /** Paths under data/raw of the files whose events clean reads. */
  readonly accepted: string[];
  readonly rejects: FileReject[];
  /** Unknown field path (`ab_bucket`, `client.x`, `events[].location`) -> occurrences. */
  readonly unknownFields: Record<string, number>;
}

interface SchemaNode { properties?: Record<string, SchemaNode>; items?: SchemaNode }

function countUnknown(value: unknown, schema: SchemaNode, path: string, counts: Record<string, number>): void {
  if (Array.isArray(value) && schema.items) {
    for (const item of value) countUnknown(item, schema.items, `${path}[]`, counts);
    return;
  }
  if (value === null || typeof value !== 'object' || !schema.properties) return;
  for (const [key, child] of Object.entries(value)) {
    const sub = schema.properties[key];
    const at = path === '' ? key : `${path}.${key}`;
    if (sub === undefined) counts[at] = (counts[at] ?? 0) + 1;
    else countUnknown(child, sub, at, counts);
  }
}

export function compileUploadSchema(schemaPath: string): { validate: ValidateFunction; schema: SchemaNode } {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as SchemaNode;
  return { validate: new Ajv({ allErrors: false, strict: false }).compile(schema), schema };
}

/**
 * Screens `files` (paths under `rawRoot`, sorted) in order; the first of duplicates wins. Each
 * accepted document's JSON text goes to `accept` as it is read, so a large set never sits in memory.
 */
export function screenWebappFiles(rawRoot: string, files: readonly string[], schemaPath: string, accept: (file: string, json: string) => void): WebappScreening {
  const { validate, schema } = compileUploadSchema(schemaPath);
  const accepted: string[] = [];
  const rejects: FileReject[] = [];
  const unknownFields: Record<string, number> = {};
  const seen = new Map<string, { digest: string; file: string }>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const file of files) {
    const reject = (rule: FileReject['rule'], detail: string, ids: { user_id?: string; session_id?: string } = {}) =>
      rejects.push({ rule, sourceFile: file, userId: ids.user_id ?? null, sessionId: ids.session_id ?? null, detail });
    let bytes = readFileSync(join(rawRoot, file));
    if (file.endsWith('.gz')) {
      try {
        bytes = gunzipSync(bytes);
      } catch (error) {
        reject('unreadable_gzip', (error as Error).message);
        continue;
      }
    }
    let text: string;
    let doc: unknown;
    try {
      text = utf8.decode(bytes); // JSON is UTF-8; a lenient decode would hide bad bytes as U+FFFD
    } catch {
      reject('invalid_json', `not UTF-8 text (${bytes.length} bytes)`);
      continue;
    }
    try {
      doc = JSON.parse(text);
    } catch (error) {
      const message = (error as Error).message;
      // Node says "Unexpected end of JSON input" (or "Unterminated string") when the text stops early.
      const truncated = /end of JSON input|Unterminated string/.test(message);
      reject(truncated ? 'truncated_json' : 'invalid_json', `${message} (${bytes.length} bytes)`);
      continue;
    }
    if (!validate(doc)) {
      const first = validate.errors?.[0];
      reject('schema_mismatch', `${first?.instancePath || '/'} ${first?.message ?? 'does not match'} (config/upload.schema.json)`);
      continue;
    }
    const ids = doc as { user_id: string; session_id: string };
    const digest = createHash('sha256').update(bytes).digest('hex');
    const earlier = seen.get(ids.session_id);
    if (earlier !== undefined) {
      const same = earlier.digest === digest;
      reject(same ? 'duplicate_upload' : 'session_id_conflict', `${same ? 'same content as' : 'other content than'} ${earlier.file}`, ids);
      continue;
    }
    seen.set(ids.session_id, { digest, file });
    countUnknown(doc, schema, '', unknownFields);
    accepted.push(file);
    accept(file, text);
  }
  return { accepted, rejects, unknownFields };
}
