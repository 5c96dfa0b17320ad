// pipeline.yaml's shape, checked against config/pipeline.schema.json (the same schema editors
// use) by ajv's compiled validator, with each ajv error turned into a located diagnostic that
// says what to write. The validator is ajv's standalone code, generated ahead of time
// (scripts/generate-schema-validator.ts), so a run pays neither ajv's import nor its compile.
import type { ErrorObject } from 'ajv';
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import { closest } from '../util/closest.js';
import { error } from './diagnostics.js';
import type { Diagnostic } from './diagnostics.js';
import { validate as generatedValidate } from './schema-validator.js';
import { deref, nodeRange, TO_VALUES } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

export const stageKeys = ['cmd', 'deps', 'outs', 'params', 'env', 'desc', 'incremental'] as const;

/** The shape of an ajv validate function: true when valid, else `errors` says why. */
type ValidateFunction = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
const validate = generatedValidate as unknown as ValidateFunction;

export function schemaDiagnostics(source: YamlSource): Diagnostic[] {
  if (validate(source.doc.toJS(TO_VALUES) ?? null)) return [];
  // The inner `pattern` error of a propertyNames check repeats its outer error; keep the outer.
  const relevant = (validate.errors ?? []).filter((e) => !('propertyName' in e));
  // `stage:` instead of `stages:` is one mistake: its "did you mean" says all; skip "no stages".
  const misspeltStages = relevant.some(
    (e) =>
      e.instancePath === '' &&
      e.keyword === 'additionalProperties' &&
      closest(String(e.params.additionalProperty), ['stages']) !== undefined,
  );
  return relevant
    .filter((e) => !(misspeltStages && e.instancePath === '' && e.keyword === 'required'))
    .map((e) => toDiagnostic(source, e));
}

function toDiagnostic(source: YamlSource, e: ErrorObject): Diagnostic {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const written = nodeAt(source, path);
  const found = deref(source, written);
  // An empty value (`loopy:`) has no width to mark: point at its key instead.
  const empty = found === undefined || (isScalar(found) && found.value === null);
  const node =
    empty && path.length > 0
      ? (keyNode(source, nodeAt(source, path.slice(0, -1)), path[path.length - 1]!) ?? written)
      : written;
  const at = (n: Node | undefined) => nodeRange(source, n ?? node);
  const where = describe(path);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = path.length === 0 ? ['stages'] : [...stageKeys];
      if (key === '<<') {
        return error(
          source.file,
          at(keyNode(source, node, key)),
          `${where} uses a YAML merge key (<<), which pipe does not read`,
          'share values field by field instead: deps: *common-deps',
        );
      }
      const guess = closest(key, known);
      const takes =
        path.length === 0
          ? '(pipeline.yaml has one top-level key, stages, plus x-... keys for YAML anchors)'
          : `(a stage takes ${known.join(', ')})`;
      return error(
        source.file,
        at(keyNode(source, node, key)),
        `${where} has an unknown key "${key}"`,
        `${guess === undefined ? 'remove it' : `did you mean "${guess}"?`} ${takes}`,
      );
    }
    case 'required': {
      const key = String(params.missingProperty);
      if (path.length === 0)
        return error(
          source.file,
          at(node),
          'pipeline.yaml has no "stages:" map',
          'add the stages, e.g.\nstages:\n  hello:\n    cmd: stages/hello.mjs',
        );
      const stageKey = keyNode(source, nodeAt(source, path.slice(0, -1)), path[path.length - 1]!);
      return error(
        source.file,
        at(stageKey),
        `${where} has no "${key}"`,
        `add the script or command line it runs: cmd: stages/${path[path.length - 1]}.ts`,
      );
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const suggestion = name.replace(/[^A-Za-z0-9_-]+/g, '_');
      return error(
        source.file,
        at(keyNode(source, node, name)),
        `stage name "${name}" has characters pipe does not allow`,
        `use only letters, digits, "_" and "-", e.g. "${suggestion}"`,
      );
    }
    case 'type':
      return error(
        source.file,
        at(node),
        `${where} must be ${expected(String(params.type), path)}, not ${actual(found)}`,
        typeHint(path, found),
      );
    case 'minLength':
      return error(source.file, at(node), `${where} is empty`, 'write a path, or remove the entry');
    case 'pattern':
      return error(
        source.file,
        at(node),
        `${where} is not an environment variable name`,
        'use letters, digits and "_", not starting with a digit (e.g. TZ, PIPE_REMOTE)',
      );
    default:
      return error(
        source.file,
        at(node),
        `${where} ${e.message ?? 'is invalid'}`,
        'see config/pipeline.schema.json for the expected shape',
      );
  }
}

/** The YAML node at a JSON pointer's segments; the last pair wins, as in toJS. */
export function nodeAt(source: YamlSource, path: readonly string[]): Node | undefined {
  let node: unknown = deref(source, source.doc.contents);
  for (const segment of path) {
    node = deref(source, node);
    if (isMap(node)) {
      const pair = node.items.findLast((p) => isScalar(p.key) && String(p.key.value) === segment);
      node = pair?.value ?? pair?.key;
    } else if (isSeq(node)) {
      node = node.items[Number(segment)];
    } else {
      return undefined;
    }
  }
  return (node ?? undefined) as Node | undefined; // an alias stays an alias: errors point at its use
}

export function keyNode(
  source: YamlSource,
  written: Node | undefined,
  key: string,
): Node | undefined {
  const map = deref(source, written);
  if (!isMap(map)) return undefined;
  return map.items.findLast((p) => isScalar(p.key) && String(p.key.value) === key)?.key as
    | Node
    | undefined;
}

/** `stages.clean.deps[0]` as a reader says it: `dep 1 of stage "clean"`. */
function describe(path: readonly string[]): string {
  const [top, stage, field, item] = path;
  if (top === undefined) return 'pipeline.yaml';
  if (stage === undefined) return `"${top}"`;
  if (field === undefined) return `stage "${stage}"`;
  if (item === undefined) return `"${field}" of stage "${stage}"`;
  return `item ${Number(item) + 1} of "${field}" of stage "${stage}"`;
}

function expected(type: string, path: readonly string[]): string {
  if (type === 'object') return path.length === 2 ? 'a map of stage fields' : 'a map';
  if (type === 'array') return 'a list';
  return `a ${type}`;
}

function actual(node: Node | undefined): string {
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node) || node.value === null) return 'empty';
  return typeof node.value === 'boolean' ? 'true/false' : `a ${typeof node.value}`;
}

function typeHint(path: readonly string[], found: Node | undefined): string {
  const field = path[2];
  if (path.length === 0) return 'pipeline.yaml holds a map whose one key is stages:';
  if (path.length === 1)
    return 'map each stage name to its fields:\nstages:\n  clean:\n    cmd: stages/clean.ts';
  if (path.length === 2)
    return `give the stage its fields, indented under its name:\n  cmd: stages/${path[1]}.ts`;
  if (path.length === 4)
    return isScalar(found)
      ? 'quote it so YAML reads it as a string'
      : 'write each item as a plain string (one path or name per item)';
  if (field === 'cmd')
    return 'give one line: a script (cmd: stages/clean.ts) or a command (cmd: python3 clean.py)';
  if (field === 'desc') return 'quote it so YAML reads it as a string: desc: "..."';
  if (field === 'incremental')
    return 'write true, false or changes, unquoted: incremental: true (see docs/stage-contract.md)';
  return `write a list, one entry per item: ${field}: [first, second]`;
}
