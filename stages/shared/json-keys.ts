// Duplicate keys in a JSON document. JSON.parse keeps the last of two equal keys without a word,
// and DuckDB's JSON reader fails the whole read on one (a web-app upload with `events` twice
// stopped the build), so clean rejects such an upload. Finding a duplicate needs the text, not the
// parsed value; a full scan of every upload in JS would cost about as much as JSON.parse, so a
// cheap count decides first whether the scan is needed at all.

/** JSON's whitespace: space, tab, LF, CR. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Colons preceded (after whitespace) by a quote: one for every key in the text, plus any inside a
 * string value (`"key":":"`). So when it equals the number of keys the parsed document holds, no
 * object of the text can have had a key twice (the parsed objects keep one of each). Runs on
 * indexOf, at native speed.
 */
export function keyColons(text: string): number {
  let n = 0;
  for (let i = text.indexOf(':'); i !== -1; i = text.indexOf(':', i + 1)) {
    let j = i - 1;
    while (j >= 0 && isSpace(text.charCodeAt(j))) j--;
    if (j >= 0 && text.charCodeAt(j) === 34) n++;
  }
  return n;
}

/** Keys of every object in a parsed JSON value. */
export function parsedKeys(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (const item of value) n += parsedKeys(item);
    return n;
  }
  const fields = value as Record<string, unknown>;
  for (const key in fields) n += 1 + parsedKeys(fields[key]);
  return n;
}

/**
 * The first key that an object of `text` holds twice, with the object's JSON Pointer
 * (`/events/0`), or null. `text` must be JSON that JSON.parse accepts: this walks its tokens and
 * trusts their order.
 */
export function firstDuplicateKey(text: string): { pointer: string; key: string } | null {
  interface Frame {
    readonly pointer: string;
    /** Keys so far (objects), or null (arrays). */
    readonly keys: Set<string> | null;
    index: number;
    key: string;
    expectKey: boolean;
  }
  const stack: Frame[] = [];
  const childPointer = (): string => {
    const top = stack.at(-1);
    if (top === undefined) return '';
    const step = top.keys === null ? String(top.index) : top.key;
    return `${top.pointer}/${step.replaceAll('~', '~0').replaceAll('/', '~1')}`;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */ || c === 91 /* [ */) {
      const keys = c === 123 ? new Set<string>() : null;
      stack.push({ pointer: childPointer(), keys, index: 0, key: '', expectKey: keys !== null });
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
    } else if (c === 44 /* , */) {
      const top = stack.at(-1);
      if (top?.keys === null) top.index++;
      else if (top !== undefined) top.expectKey = true;
    } else if (c === 34 /* " */) {
      let end = i + 1;
      let escaped = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 92 /* \ */) {
          escaped = true;
          end++;
        } else if (d === 34) break;
      }
      const top = stack.at(-1);
      if (top?.keys != null && top.expectKey) {
        const raw = text.slice(i, end + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) return { pointer: top.pointer || '/', key };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    }
  }
  return null;
}
