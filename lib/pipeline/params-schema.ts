// params.yaml against the workspace's own JSON Schema, config/params.schema.json, before anything
// runs: `sequence_length: fifty` must stop the build at params.yaml:LINE:COL, not fail inside a
// stage three stages later. The schema belongs to the pipeline (pipe knows no param), so it is
// read and compiled with ajv at run time, only when the file exists; editors validate with the
// same file through the `# yaml-language-server: $schema=...` comment on params.yaml.
// YAML reads `1e400` as Infinity and `.nan` as NaN: ajv's "number" and "integer" refuse both.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isScalar } from 'yaml';
import { closest } from '../util/closest.js';
import { error } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import { keyNode as keyNodeOf, nodeAt } from './schema.js';
import { deref, nodeRange } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

export const paramsSchemaPath = 'config/params.schema.json';

/** Part of the kept validator's name: other options (or another ajv) compile other code. */
const AJV_OPTIONS_KEY = 'ajv8 allErrors verbose strict:false esm';

const compiled = new Map<string, ValidateFunction>();

/** The located problems of params.yaml's values against config/params.schema.json, if any. */
export async function paramsSchemaDiagnostics(
  root: string,
  source: YamlSource,
  values: unknown,
): Promise<Diagnostic[]> {
  let text: string;
  try {
    text = await readFile(join(root, paramsSchemaPath), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const validate = await compile(root, { path: paramsSchemaPath, text });
  if (typeof validate !== 'function') return [validate];
  if (validate(values)) return [];
  return (validate.errors ?? []).map((e) => toDiagnostic(source, e));
}

/**
 * The validator for `schema`: from this process's memory, else from ajv's standalone code kept
 * in .pipe/params-validator/<sha256 of the schema and options>.mjs by an earlier run (importing
 * ajv and compiling costs 0.1-0.4 s on every command; the kept code about 5 ms), else compiled.
 */
async function compile(root: string, schema: SourceFile): Promise<ValidateFunction | Diagnostic> {
  const done = compiled.get(schema.text);
  if (done !== undefined) return done;
  const key = createHash('sha256').update(`${AJV_OPTIONS_KEY}\n${schema.text}`).digest('hex');
  const kept = join(root, '.pipe', 'params-validator', `${key}.mjs`);
  try {
    const mod = (await import(pathToFileURL(kept).href)) as { default: ValidateFunction };
    compiled.set(schema.text, mod.default);
    return mod.default;
  } catch {
    // not kept yet (or unreadable): compile below
  }
  const whole = rangeOfFile(schema);
  let parsed: unknown;
  try {
    parsed = JSON.parse(schema.text);
  } catch (e) {
    return error(
      schema,
      whole,
      `${schema.path} is not JSON: ${(e as Error).message}`,
      'fix the JSON',
    );
  }
  const { Ajv } = await import('ajv');
  // strict: false lets a schema carry editor keywords ajv does not know; verbose gives each error
  // its sub-schema (for examples and bounds in the fix) and the value found.
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    verbose: true,
    logger: false,
    code: { source: true, esm: true },
  });
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(parsed as object);
  } catch (e) {
    return error(
      schema,
      whole,
      `${schema.path} is not a valid JSON Schema: ${(e as Error).message}`,
      'fix the schema (draft-07); editors point at the bad keyword',
    );
  }
  compiled.set(schema.text, validate);
  const standalone = (await import('ajv/dist/standalone/index.js')).default.default;
  const code = standalone(ajv, validate);
  // Code that needs ajv's runtime helpers (require) cannot run as a plain module: not kept.
  if (!code.includes('require(')) {
    await writeFileAtomic(kept, `${code.replace(/^"use strict";/, '')}\n`).catch(() => {
      // a read-only checkout: compile again next time
    });
  }
  return validate;
}

/** The start of a file: where a problem with the whole file is shown. */
function rangeOfFile(_file: SourceFile) {
  return { offset: 0, length: 0, line: 1, column: 1 };
}

function toDiagnostic(source: YamlSource, e: ErrorObject): Diagnostic {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const name = path.join('.');
  const sub = (e.parentSchema ?? {}) as {
    examples?: unknown[];
    minimum?: number;
    maximum?: number;
  };
  const example = sub.examples?.[0];
  const written = deref(source, nodeAt(source, path));
  const empty = written === undefined || (isScalar(written) && written.value === null);
  const parent = nodeAt(source, path.slice(0, -1));
  const at =
    empty && path.length > 0
      ? nodeRange(source, keyNodeOf(source, parent, path.at(-1)!) ?? written)
      : nodeRange(source, written);
  // As written (`1e400`, not the Infinity YAML reads it as), or "empty" for `key:`.
  const found = empty ? 'empty' : source.file.text.slice(at.offset, at.offset + at.length);
  const params = e.params as Record<string, unknown>;
  const eg =
    example === undefined ? '' : `, e.g. ${name.split('.').at(-1)}: ${JSON.stringify(example)}`;
  switch (e.keyword) {
    case 'type': {
      const type = String(params.type);
      const what =
        type === 'integer' ? 'a whole number' : type === 'number' ? 'a finite number' : `a ${type}`;
      return error(
        source.file,
        at,
        `param "${name}" is ${found}, but must be ${what}`,
        `write ${what}${bounds(sub)}${eg}`,
      );
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return error(
        source.file,
        at,
        `param "${name}" is ${found}, but ${e.message}`,
        `use a value${bounds(sub) || ` that ${e.message}`}${eg}`,
      );
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(
        ((e.parentSchema ?? {}) as { properties?: object }).properties ?? {},
      );
      const guess = closest(key, allowed);
      const full = name === '' ? key : `${name}.${key}`;
      return error(
        source.file,
        nodeRange(source, keyNodeOf(source, written, key) ?? written),
        `unknown param "${full}" (not in ${paramsSchemaPath})`,
        guess === undefined
          ? `remove it, or add it to ${paramsSchemaPath} (known here: ${allowed.join(', ')})`
          : `did you mean "${guess}"?`,
      );
    }
    case 'required':
      return error(
        source.file,
        path.length === 0
          ? nodeRange(source, written)
          : nodeRange(source, keyNodeOf(source, parent, path.at(-1)!) ?? written),
        `param "${name === '' ? '' : `${name}.`}${String(params.missingProperty)}" is missing`,
        `add it (${paramsSchemaPath} says what it takes)`,
      );
    default:
      return error(
        source.file,
        at,
        `param "${name}" is ${found}, but ${e.message ?? 'does not match the schema'}`,
        `see ${paramsSchemaPath}${eg}`,
      );
  }
}

function bounds(sub: { minimum?: number; maximum?: number }): string {
  if (sub.minimum !== undefined && sub.maximum !== undefined)
    return ` from ${sub.minimum} to ${sub.maximum}`;
  if (sub.minimum !== undefined) return ` of at least ${sub.minimum}`;
  if (sub.maximum !== undefined) return ` of at most ${sub.maximum}`;
  return '';
}
