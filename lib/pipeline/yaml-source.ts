// YAML text -> a document whose nodes keep their offsets, plus located syntax diagnostics.
// Shared by pipeline-file.ts and params-file.ts so both report problems the same way.
import { isAlias, isPair, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';
import { ALIAS_BUDGET, aliasOverBudget } from './alias-budget.js';
import { error, warning } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import type { SourceRange } from '../graph/stage.js';

/**
 * Options for converting a parsed file to values. yaml's own alias check (maxAliasCount) throws,
 * and would end pipe with an internal error; alias-budget.ts has already refused any file whose
 * aliases expand too far, with its place, so the conversion runs unbounded.
 */
export const TO_VALUES = { maxAliasCount: -1 } as const;

export interface YamlSource {
  readonly file: SourceFile;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

export interface ParsedYaml {
  readonly source: YamlSource;
  /** Syntax errors, then keys written twice in one map (each with both places). */
  readonly errors: Diagnostic[];
  /** True when the text parsed: the tree is worth checking further even if keys repeat. */
  readonly syntaxOk: boolean;
  readonly warnings: Diagnostic[];
}

export function parseYamlSource(file: SourceFile): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys: false because yaml reports a duplicate only at its second place; we report both.
  const doc = parseDocument(file.text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const source: YamlSource = { file, doc, lineCounter };
  const errors = doc.errors.map((e) => yamlErrorDiagnostic(source, e, 'error'));
  const warnings = doc.warnings.map((e) => yamlErrorDiagnostic(source, e, 'warning'));
  const bomb = errors.length === 0 ? aliasBudgetDiagnostic(source) : undefined;
  if (bomb !== undefined) errors.push(bomb);
  // A tree whose aliases expand past the budget must never be converted (toJS): not ok either.
  const syntaxOk = errors.length === 0;
  if (syntaxOk) errors.push(...duplicateKeys(source));
  return { source, errors, syntaxOk, warnings };
}

/** The range of `start..end` (offsets into the text), with its 1-based line and column. */
export function rangeOf(source: YamlSource, start: number, end: number): SourceRange {
  const { line, col } = source.lineCounter.linePos(start);
  return { offset: start, length: Math.max(0, end - start), line, column: col };
}

/** The range of a node's value (without trailing comments), or of the document start. */
export function nodeRange(source: YamlSource, node: Node | null | undefined): SourceRange {
  const r = node?.range;
  if (r === undefined || r === null) return rangeOf(source, 0, 0);
  return rangeOf(source, r[0], r[1]);
}

/**
 * The node an alias (`*common`) stands for, or the node itself. Values reached through an alias
 * are located at their anchor, where they are written.
 */
export function deref(source: YamlSource, node: unknown): Node | undefined {
  if (isAlias(node)) return (node.resolve(source.doc) as Node | undefined) ?? undefined;
  return (node ?? undefined) as Node | undefined;
}

const syntaxHints: Partial<Record<YAMLError['code'], string>> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  BAD_INDENT: 'line this up with the other keys at its level (indent with spaces)',
  MISSING_CHAR: 'add the missing closing character',
  MULTILINE_IMPLICIT_KEY:
    'a key must fit on one line; check the indentation and the colon of the line above',
  BLOCK_AS_IMPLICIT_KEY: 'check the indentation: this looks like a value where a key was expected',
  UNEXPECTED_TOKEN:
    "check this line's indentation and punctuation; quote values that contain ': ' or '#'",
  BAD_SCALAR_START: 'quote the value: a plain value cannot start with this character',
};

function yamlErrorDiagnostic(
  source: YamlSource,
  e: YAMLError,
  severity: 'error' | 'warning',
): Diagnostic {
  const range = rangeOf(source, e.pos[0], e.pos[1]);
  const message = e.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? e.message;
  const hint = /end with a [\]}]/.test(message)
    ? `close the ${message.includes(']') ? 'list with "]"' : 'map with "}"'} on the line where it opens`
    : (syntaxHints[e.code] ?? 'fix the YAML syntax here (quote values with special characters)');
  return severity === 'error'
    ? error(source.file, range, `invalid YAML: ${message}`, hint)
    : warning(source.file, range, message, hint);
}

function aliasBudgetDiagnostic(source: YamlSource): Diagnostic | undefined {
  const culprit = aliasOverBudget(source.doc, ALIAS_BUDGET);
  if (culprit === undefined) return undefined;
  return error(
    source.file,
    nodeRange(source, culprit),
    `YAML aliases here expand to more than ${ALIAS_BUDGET.toLocaleString('en-US')} values`,
    'write the values out, or share fewer of them through anchors (&name) and aliases (*name);\nan alias of an alias of an alias multiplies: this is how a "billion laughs" file exhausts memory',
  );
}

/** Every key written twice in one map: reported at the second, with a note at the first. */
function duplicateKeys(source: YamlSource): Diagnostic[] {
  const found: Diagnostic[] = [];
  visit(source.doc, {
    Map(_, map, path) {
      // The map under the top-level `stages:` key holds stage names: say "stage" for those.
      const parent = path[path.length - 1];
      const isStages =
        path.length === 3 &&
        isPair(parent) &&
        isScalar(parent.key) &&
        parent.key.value === 'stages';
      const seen = new Map<string, Node>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        const first = seen.get(name);
        if (first === undefined) {
          seen.set(name, pair.key);
          continue;
        }
        const what = isStages ? `stage "${name}"` : `key "${name}"`;
        const fix = isStages
          ? 'rename one of the two stages; stage names must be unique'
          : 'merge the two into one; YAML would silently keep only the last';
        const note = {
          message: `${what} is first defined here`,
          file: source.file,
          range: nodeRange(source, first),
        };
        found.push(
          error(source.file, nodeRange(source, pair.key), `${what} is defined twice`, fix, [note]),
        );
      }
    },
  });
  return found;
}
