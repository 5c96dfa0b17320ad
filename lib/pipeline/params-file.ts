// params.yaml: the values stages declare under `params:` (dotted keys, `clean.max_hold_ms`).
// A stage's param values are part of its fingerprint; only declared keys are read.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { closest } from '../util/closest.js';
import { error } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import type { Located, StageName } from '../graph/stage.js';
import { err, ok } from '../util/result.js';
import type { Result } from '../util/result.js';
import { parseYamlSource, TO_VALUES } from './yaml-source.js';
import { paramsSchemaDiagnostics } from './params-schema.js';

export const paramsFileName = 'params.yaml';

export interface Params {
  /** The file as read; undefined when the workspace has no params.yaml. */
  readonly file: SourceFile | undefined;
  /** The parsed values (a map), or an empty map without a file. */
  readonly values: Readonly<Record<string, unknown>>;
}

/** Reads `<root>/params.yaml`. A missing file is not an error here: no stage may need it. */
export async function loadParams(root: string): Promise<Result<Params, Diagnostic[]>> {
  let text: string;
  try {
    text = await readFile(join(root, paramsFileName), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return ok({ file: undefined, values: {} });
    throw e;
  }
  const file: SourceFile = { path: paramsFileName, text };
  const parsed = parseYamlSource(file);
  if (parsed.errors.length > 0) return err(parsed.errors);
  const values: unknown = parsed.source.doc.toJS(TO_VALUES) ?? {};
  if (!isRecord(values)) {
    return err([
      error(
        file,
        { offset: 0, length: 0, line: 1, column: 1 },
        'params.yaml must be a map of names to values',
        'write it as keys and values, e.g.\nclean:\n  max_hold_ms: 5000',
      ),
    ]);
  }
  const invalid = await paramsSchemaDiagnostics(root, parsed.source, values);
  if (invalid.length > 0) return err(invalid);
  return ok({ file, values });
}

/**
 * The value at a dotted key (`clean.max_hold_ms` -> values.clean.max_hold_ms), or undefined.
 * A key that itself holds dots (`"a.b": 1`) is found too: the longest matching key wins.
 */
export function paramValue(params: Params, dottedKey: string): unknown {
  return lookup(params.values, dottedKey.split('.'));
}

function lookup(value: unknown, parts: readonly string[]): unknown {
  if (parts.length === 0) return value;
  if (!isRecord(value)) return undefined;
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join('.');
    if (Object.hasOwn(value, key)) {
      const found = lookup(value[key], parts.slice(take));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** Every dotted key in the file, maps included (`clean`, `clean.max_hold_ms`), for suggestions. */
export function paramKeys(params: Params): string[] {
  const keys: string[] = [];
  const walk = (value: unknown, prefix: string) => {
    if (!isRecord(value)) return;
    for (const [k, v] of Object.entries(value)) {
      keys.push(prefix + k);
      walk(v, `${prefix}${k}.`);
    }
  };
  walk(params.values, '');
  return keys;
}

/** A located error for each declared param key that params.yaml does not have. */
export function missingParamDiagnostics(
  pipelineFile: SourceFile,
  params: Params,
  declared: readonly { stage: StageName; key: Located<string> }[],
): Diagnostic[] {
  const found: Diagnostic[] = [];
  const known = paramKeys(params);
  for (const { stage, key } of declared) {
    if (params.file === undefined) {
      found.push(
        error(
          pipelineFile,
          key.range,
          `stage "${stage}" reads param "${key.value}", but there is no params.yaml`,
          `create params.yaml beside pipeline.yaml with the key, e.g.\n${example(key.value)}`,
        ),
      );
    } else if (paramValue(params, key.value) === undefined) {
      const guess = closest(key.value, known);
      const fix =
        guess === undefined
          ? `add it to params.yaml, e.g.\n${example(key.value)}`
          : `did you mean "${guess}"? Otherwise add it to params.yaml`;
      found.push(
        error(
          pipelineFile,
          key.range,
          `param "${key.value}" of stage "${stage}" is not in params.yaml`,
          fix,
        ),
      );
    }
  }
  return found;
}

function example(dottedKey: string): string {
  const parts = dottedKey.split('.');
  return parts
    .map((p, i) => `${'  '.repeat(i)}${p}:${i === parts.length - 1 ? ' <value>' : ''}`)
    .join('\n');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
