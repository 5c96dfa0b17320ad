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

const IDENT_START = /[A-Za-z_$#\u0080-\uffff]/;
const IDENT_PART = /[\w$\u0080-\uffff]/;

class Lexer {
  readonly tokens: Token[] = [];
  #i = 0;
  /** Per open `${` of a template: how many `{` inside it are still open. */
  readonly #templates: number[] = [];

  constructor(private readonly text: string) {}

  run(): Token[] {
    const s = this.text;
    if (s.startsWith('#!')) this.#skipTo('\n', 0);
    while (this.#i < s.length) {
      const c = s[this.#i]!;
      if (c === ' ' || c === '\n' || c === '\t' || c === '\r') this.#i++;
      else if (c === '/' && s[this.#i + 1] === '/') this.#skipTo('\n', 0);
      else if (c === '/' && s[this.#i + 1] === '*') this.#skipTo('*/', 2);
      else if (c === '/' && this.#regexAllowed()) this.#regex();
      else if (c === "'" || c === '"') this.tokens.push({ t: 'str', v: this.#quoted(c) });
      else if (c === '`') {
        this.#i++;
        this.#template();
      } else if (c === '}' && this.#templates.length > 0 && this.#templates.at(-1) === 0) {
        this.#templates.pop();
        this.#i++;
        this.#template(true);
      } else if (IDENT_START.test(c) || c === '\\') this.#ident();
      else if (c >= '0' && c <= '9') this.#number();
      else {
        if (this.#templates.length > 0 && c === '{') this.#templates[this.#templates.length - 1]!++;
        if (this.#templates.length > 0 && c === '}') this.#templates[this.#templates.length - 1]!--;
        this.tokens.push({ t: 'p', v: c });
        this.#i++;
      }
    }
    return this.tokens;
  }

  #skipTo(end: string, skip: number): void {
    const at = this.text.indexOf(end, this.#i + skip);
    this.#i = at === -1 ? this.text.length : at + end.length;
  }

  #regexAllowed(): boolean {
    const prev = this.tokens.at(-1);
    if (prev === undefined) return true;
    if (prev.t === 'p') return PUNCT_BEFORE_REGEX.has(prev.v) || prev.v === '}';
    return prev.t === 'id' && BEFORE_REGEX.has(prev.v);
  }

  #regex(): void {
    const s = this.text;
    let inClass = false;
    this.#i++;
    while (this.#i < s.length) {
      const c = s[this.#i]!;
      if (c === '\\') this.#i += 2;
      else if (c === '\n')
        break; // not a regex after all: let the line go on as code
      else {
        this.#i++;
        if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (c === '/' && !inClass) break;
      }
    }
    while (this.#i < s.length && IDENT_PART.test(s[this.#i]!)) this.#i++; // flags
    this.tokens.push({ t: 'value' });
  }

  #quoted(quote: string): string {
    const s = this.text;
    let value = '';
    this.#i++;
    while (this.#i < s.length && s[this.#i] !== quote && s[this.#i] !== '\n') {
      if (s[this.#i] === '\\') {
        value += s[this.#i + 1] ?? '';
        this.#i += 2;
      } else value += s[this.#i++];
    }
    this.#i++;
    return value;
  }

  /** From just inside a template's backtick (or a `}` ending a substitution) to its end or `${`. */
  #template(afterSubstitution = false): void {
    const s = this.text;
    let value = '';
    while (this.#i < s.length) {
      const c = s[this.#i]!;
      if (c === '\\') {
        value += s[this.#i + 1] ?? '';
        this.#i += 2;
      } else if (c === '`') {
        this.#i++;
        this.tokens.push(afterSubstitution ? { t: 'value' } : { t: 'str', v: value });
        return;
      } else if (c === '$' && s[this.#i + 1] === '{') {
        this.#i += 2;
        this.#templates.push(0);
        // The substitution's code is lexed as code; the template's value is not a literal.
        this.tokens.push({ t: 'p', v: '(' });
        return;
      } else {
        value += c;
        this.#i++;
      }
    }
  }

  #ident(): void {
    const s = this.text;
    const start = this.#i;
    this.#i++;
    while (this.#i < s.length && (IDENT_PART.test(s[this.#i]!) || s[this.#i] === '\\')) this.#i++;
    this.tokens.push({ t: 'id', v: s.slice(start, this.#i) });
  }

  #number(): void {
    const s = this.text;
    while (this.#i < s.length && /[\w.]/.test(s[this.#i]!)) this.#i++;
    this.tokens.push({ t: 'value' });
  }
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
  const tokens = new Lexer(text).run();
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
