// params.yaml against the workspace's own JSON Schema, config/params.schema.json, before anything
// runs: `sequence_length: fifty` must stop the build at params.yaml:LINE:COL, not fail inside a
// stage three stages later. The schema belongs to the pipeline (pipe knows no param), so it is
// read and compiled with ajv at run time, only when the file exists; editors validate with the
// same file through the `# yaml-language-server: $schema=...` comment on params.yaml.
// YAML reads `1e400` as Infinity and `.nan` as NaN: ajv's "number" and "integer" refuse both.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { isScalar } from 'yaml';
import { closest } from '../util/closest.js';
import { error } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import { keyNode as keyNodeOf, nodeAt } from './schema.js';
import { deref, nodeRange } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

export const paramsSchemaPath = 'config/params.schema.json';

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
  const validate = await compile({ path: paramsSchemaPath, text });
  if (typeof validate !== 'function') return [validate];
  if (validate(values)) return [];
  return (validate.errors ?? []).map((e) => toDiagnostic(source, e));
}

async function compile(schema: SourceFile): Promise<ValidateFunction | Diagnostic> {
  const done = compiled.get(schema.text);
  if (done !== undefined) return done;
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
  const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, logger: false });
  try {
    const validate = ajv.compile(parsed as object);
    compiled.set(schema.text, validate);
    return validate;
  } catch (e) {
    return error(
      schema,
      whole,
      `${schema.path} is not a valid JSON Schema: ${(e as Error).message}`,
      'fix the schema (draft-07); editors point at the bad keyword',
    );
  }
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
