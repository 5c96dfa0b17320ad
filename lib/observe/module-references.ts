// What one JavaScript or TypeScript source names as code it runs: the specifiers of its imports
// and the files it names by URL. Pure: text in, specifiers out (code-closure.ts resolves them).
//
// A small lexer rather than a parser: it skips comments, strings, template literals and regular
// expressions, so a commented-out import or a specifier-shaped string is never taken for an
// import, and then matches these token patterns:
//
//   import ... from '<s>'   import '<s>'   export ... from '<s>'   import type ... from '<s>'
//   import('<s>')           import.meta.resolve('<s>')            require('<s>')
//   new URL('<s>', import.meta.url)   new URL('<s>', here)   (a name holding import.meta.url)
//
// Type-only imports count: erasing them changes nothing at run time, but a closure that errs on
// the side of more files can only re-run a stage, never skip one that should run. Specifiers that
// are computed (`import(name)`) cannot be known here; stage-contract.md says how such code is
// declared. A regular expression right after `)` or `++` is read as a division, as most lexers
// of this kind do; JSX text is not understood (stages are .ts/.mjs).

export type ReferenceKind = 'import' | 'url';

export interface ModuleReference {
  readonly specifier: string;
  /** `import`: resolved as node resolves a module; `url`: as `new URL(s, import.meta.url)`. */
  readonly kind: ReferenceKind;
}

type Token =
  | { readonly t: 'id'; readonly v: string }
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'p'; readonly v: string }
  /** A number, a regular expression or a template with substitutions: a value, never matched. */
  | { readonly t: 'value' };

/** Keywords after which `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

/** Punctuation after which `/` starts a regular expression (everything but `)` and `]`). */
const PUNCT_BEFORE_REGEX = new Set([...'(,=:[!&|?{};+-*%<>~^']);

/** Letters, `_`, `$`, `#` (private names), `\` (escapes) and anything beyond ASCII. */
function identStart(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    c === 95 ||
    c === 36 ||
    c === 35 ||
    c === 92 ||
    c >= 128
  );
}

function identPart(c: number): boolean {
  return identStart(c) || (c >= 48 && c <= 57);
}

/** One shared token per punctuation character: a 12,000-character file has thousands. */
const PUNCT = new Map<number, Token>();
const VALUE: Token = { t: 'value' };

function punct(c: number): Token {
  let tok = PUNCT.get(c);
  if (tok === undefined) {
    tok = { t: 'p', v: String.fromCharCode(c) };
    PUNCT.set(c, tok);
  }
  return tok;
}

function regexAllowed(tokens: readonly Token[]): boolean {
  const prev = tokens[tokens.length - 1];
  if (prev === undefined) return true;
  if (prev.t === 'p') return PUNCT_BEFORE_REGEX.has(prev.v) || prev.v === '}';
  return prev.t === 'id' && BEFORE_REGEX.has(prev.v);
}

/** The text between `from` and `to` with backslash escapes reduced to the escaped character. */
function unescaped(s: string, from: number, to: number): string {
  const raw = s.slice(from, to);
  return raw.includes('\\') ? raw.replace(/\\(.)/gs, '$1') : raw;
}

/**
 * The tokens of `s`. Written over char codes with one index (not per-character regular
 * expressions or string building): a stage's closure is ~250 kB of source, lexed in a few ms.
 */
function lex(s: string): Token[] {
  const tokens: Token[] = [];
  /** Per open `${` of a template: how many `{` inside it are still open. */
  const templates: number[] = [];
  const n = s.length;
  let i = 0;
  if (s.startsWith('#!')) i = s.indexOf('\n') === -1 ? n : s.indexOf('\n');

  /** From just inside a template (after a backtick, or a `}` closing a substitution). */
  const template = (afterSubstitution: boolean): void => {
    const start = i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 92) i += 2;
      else if (c === 96) {
        tokens.push(afterSubstitution ? VALUE : { t: 'str', v: unescaped(s, start, i) });
        i++;
        return;
      } else if (c === 36 && s.charCodeAt(i + 1) === 123) {
        i += 2;
        templates.push(0);
        // The substitution is lexed as code; the template as a whole is no literal.
        tokens.push(punct(40));
        return;
      } else i++;
    }
  };

  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13) {
      i++;
    } else if (c === 47) {
      const d = s.charCodeAt(i + 1);
      if (d === 47) {
        const end = s.indexOf('\n', i);
        i = end === -1 ? n : end;
      } else if (d === 42) {
        const end = s.indexOf('*/', i + 2);
        i = end === -1 ? n : end + 2;
      } else if (regexAllowed(tokens)) {
        let inClass = false;
        for (i++; i < n; ) {
          const r = s.charCodeAt(i);
          if (r === 92) i += 2;
          else if (r === 10)
            break; // not a regex after all: the line goes on as code
          else {
            i++;
            if (r === 91) inClass = true;
            else if (r === 93) inClass = false;
            else if (r === 47 && !inClass) break;
          }
        }
        while (i < n && identPart(s.charCodeAt(i))) i++; // flags
        tokens.push(VALUE);
      } else {
        tokens.push(punct(c));
        i++;
      }
    } else if (c === 39 || c === 34) {
      const start = ++i;
      while (i < n) {
        const q = s.charCodeAt(i);
        if (q === 92) i += 2;
        else if (q === c || q === 10) break;
        else i++;
      }
      tokens.push({ t: 'str', v: unescaped(s, start, Math.min(i, n)) });
      i++;
    } else if (c === 96) {
      i++;
      template(false);
    } else if (c === 125 && templates.length > 0 && templates[templates.length - 1] === 0) {
      templates.pop();
      i++;
      template(true);
    } else if (identStart(c)) {
      const start = i++;
      while (i < n && identPart(s.charCodeAt(i))) i++;
      tokens.push({ t: 'id', v: s.slice(start, i) });
    } else if (c >= 48 && c <= 57) {
      i++;
      while (i < n && (identPart(s.charCodeAt(i)) || s.charCodeAt(i) === 46)) i++;
      tokens.push(VALUE);
    } else {
      if (templates.length > 0 && c === 123) templates[templates.length - 1]!++;
      if (templates.length > 0 && c === 125) templates[templates.length - 1]!--;
      tokens.push(punct(c));
      i++;
    }
  }
  return tokens;
}

const isId = (tok: Token | undefined, v?: string): tok is { t: 'id'; v: string } =>
  tok?.t === 'id' && (v === undefined || tok.v === v);
const isP = (tok: Token | undefined, v: string): boolean => tok?.t === 'p' && tok.v === v;
const str = (tok: Token | undefined): string | undefined => (tok?.t === 'str' ? tok.v : undefined);

/** Words that end the search for `from`: a declaration is being exported, not a module. */
const NOT_A_CLAUSE = new Set(
  'const let var function class default interface enum abstract async declare namespace module import export'.split(
    ' ',
  ),
);

/** The index just past the `}` that closes the `{` at `open`. */
function pastBraces(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    if (isP(tokens[j], '{')) depth++;
    else if (isP(tokens[j], '}') && --depth === 0) return j + 1;
  }
  return tokens.length;
}

/**
 * The `'<s>'` of `from '<s>'` ending an import/export clause that starts at `j`: names, `type`,
 * `* as x`, `{ ... }` and commas, then `from` and a string. Undefined for anything else
 * (`export const`, `export default`, `export { a }` without `from`).
 */
function clauseSource(tokens: readonly Token[], j: number): string | undefined {
  while (j < tokens.length) {
    const tok = tokens[j];
    if (isId(tok, 'from') && str(tokens[j + 1]) !== undefined) return str(tokens[j + 1]);
    if (isP(tok, '{')) j = pastBraces(tokens, j);
    else if (isId(tok) || isP(tok, '*') || isP(tok, ',')) {
      if (isId(tok) && NOT_A_CLAUSE.has(tok.v)) return undefined;
      j++;
    } else return undefined;
  }
  return undefined;
}

/** `( '<s>' )` or `( '<s>', ...` at `j`: a call whose first argument is a literal. */
function literalArgument(tokens: readonly Token[], j: number): string | undefined {
  if (!isP(tokens[j], '(')) return undefined;
  const s = str(tokens[j + 1]);
  return s !== undefined && (isP(tokens[j + 2], ')') || isP(tokens[j + 2], ',')) ? s : undefined;
}

/** `import . meta . url` or a bare name (a variable holding it), then `)` or `,`. */
function importMetaUrlArgument(tokens: readonly Token[], j: number): boolean {
  const end = (k: number) => isP(tokens[k], ')') || isP(tokens[k], ',');
  if (
    isId(tokens[j], 'import') &&
    isP(tokens[j + 1], '.') &&
    isId(tokens[j + 2], 'meta') &&
    isP(tokens[j + 3], '.') &&
    isId(tokens[j + 4], 'url')
  )
    return end(j + 5);
  return isId(tokens[j]) && end(j + 1);
}

/** Every module and file `text` names by a literal, in source order (duplicates kept). */
export function moduleReferences(text: string): ModuleReference[] {
  const tokens = lex(text);
  const found: ModuleReference[] = [];
  const add = (specifier: string | undefined, kind: ReferenceKind) => {
    if (specifier !== undefined && specifier !== '') found.push({ specifier, kind });
  };
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (tok.t !== 'id' || isP(tokens[k - 1], '.')) continue;
    const next = tokens[k + 1];
    if (tok.v === 'import') {
      if (isP(next, '(')) add(literalArgument(tokens, k + 1), 'import');
      else if (isP(next, '.')) {
        if (
          isId(tokens[k + 2], 'meta') &&
          isP(tokens[k + 3], '.') &&
          isId(tokens[k + 4], 'resolve')
        )
          add(literalArgument(tokens, k + 5), 'import');
      } else if (str(next) !== undefined) add(str(next), 'import');
      // TypeScript's `import x = require('y')` is found at its `require`.
      else add(clauseSource(tokens, k + 1), 'import');
    } else if (tok.v === 'export') {
      add(clauseSource(tokens, k + 1), 'import');
    } else if (tok.v === 'require') {
      add(literalArgument(tokens, k + 1), 'import');
    } else if (tok.v === 'new' && isId(next, 'URL') && isP(tokens[k + 2], '(')) {
      const s = str(tokens[k + 3]);
      if (s !== undefined && isP(tokens[k + 4], ',') && importMetaUrlArgument(tokens, k + 5))
        add(s, 'url');
    }
  }
  return found;
}

/**
 * Whether `text` may load code other than by the specifiers moduleReferences finds and resolves
 * from the file's own place: an `import(...)` or `require(...)` whose argument is not a literal,
 * or a `require` of a relative path (a `createRequire(base)` require resolves from its base, not
 * from the file). build/compiled-stage.ts runs such a file under tsx, where it behaves as written.
 */
export function loadsBeyondReferences(text: string): boolean {
  const tokens = lex(text);
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k]!;
    if (tok.t !== 'id' || isP(tokens[k - 1], '.') || !isP(tokens[k + 1], '(')) continue;
    if (tok.v !== 'import' && tok.v !== 'require') continue;
    const literal = literalArgument(tokens, k + 1);
    if (literal === undefined) return true;
    if (tok.v === 'require' && (literal.startsWith('.') || literal.startsWith('/'))) return true;
  }
  return false;
}
