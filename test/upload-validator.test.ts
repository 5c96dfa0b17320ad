// clean validates web-app uploads with ajv's code for config/upload.schema.json compiled ahead
// (stages/shared/upload-schema-validator.cjs, by `npm run generate:schema`) instead of compiling
// the schema on each run. That file must be the one the schema makes now, must answer exactly as
// the schema compiled by ajv at run time does (the expected verdicts and errors come from ajv
// compiling the schema here), and must not be used for any other schema.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  uploadValidatorPath,
  uploadValidatorSource,
} from '../scripts/generate-schema-validator.js';
import { validate as ahead } from '../stages/shared/upload-schema-validator.js';
import { uploadChecker } from '../stages/shared/webapp-files.js';

const schemaPath = join(import.meta.dirname, '../config/upload.schema.json');
const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as object;
const limits = {
  maxUploadBytes: 1 << 30,
  maxDecompressedBytes: 1 << 30,
};

/** Sample uploads, and each broken in the ways the schema refuses. */
function corpus(): unknown[] {
  const dir = join(import.meta.dirname, '../samples/webapp');
  const docs: unknown[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.session.json'))
    .slice(0, 20)) {
    const doc = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
    const events = doc.events as Record<string, unknown>[];
    docs.push(doc);
    docs.push({ ...doc, session_id: '' });
    docs.push({ ...doc, user_id: 7 });
    const { prompt: _, ...noPrompt } = doc;
    docs.push(noPrompt);
    docs.push({ ...doc, client: { ...(doc.client as object), device: 'tablet' } });
    docs.push({ ...doc, time_origin: -1 });
    docs.push({ ...doc, events: [...events.slice(0, 3), { ...events[0], keyCode: 256 }] });
    docs.push({ ...doc, events: [{ ...events[0], type: 'press' }] });
    docs.push({ ...doc, events: [{ ...events[0], repeat: 'no' }] });
    docs.push({ ...doc, extra: { field: 1 } }); // tolerated
    docs.push({ ...doc, session_id: '😀' }); // one code point, two UTF-16 units
  }
  docs.push(null, [], 'text', 3);
  return docs;
}

describe('the upload schema compiled ahead', () => {
  it('is what config/upload.schema.json makes now (else: npm run generate:schema)', () => {
    expect(readFileSync(uploadValidatorPath, 'utf8')).toBe(uploadValidatorSource());
  });

  it('answers every upload, and its errors, as the schema compiled by ajv now does', () => {
    const now = new Ajv({ allErrors: false, strict: false }).compile(schema);
    let refused = 0;
    for (const doc of corpus()) {
      const verdict = now(doc);
      expect(ahead(doc)).toBe(verdict);
      expect(ahead.errors ?? null).toEqual(now.errors ?? null);
      if (!verdict) refused++;
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('is taken for that schema only: clean compiles an edited one', async () => {
    expect(uploadChecker(schemaPath, limits).validate).toBe(ahead);
    const dir = mkdtempSync(join(tmpdir(), 'pipe-upload-schema-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const edited = structuredClone(schema) as {
      properties: { user_id: { minLength: number } };
    };
    edited.properties.user_id.minLength = 50;
    writeFileSync(join(dir, 'upload.schema.json'), JSON.stringify(edited));
    const checker = uploadChecker(join(dir, 'upload.schema.json'), limits);
    expect(checker.validate).not.toBe(ahead);
    const doc = corpus()[0];
    expect(ahead(doc)).toBe(true);
    expect(checker.validate(doc)).toBe(false);
  });
});
