// Partial responses, as the JSON API answers the `fields` parameter
// (https://cloud.google.com/storage/docs/json_api#partial-response): `a,b/c,items(name,size)`
// keeps only the named members; a selection on an array applies to each element.

/** A parsed selection: member name -> its sub-selection, or null for the whole member. */
export type Selection = Map<string, Selection | null>;

/** null when `spec` is not a field selection (the service answers 400 then). */
export function parseFields(spec: string): Selection | null {
  let at = 0;
  const list = (): Selection | null => {
    const out: Selection = new Map();
    for (;;) {
      const path: string[] = [];
      for (;;) {
        const m = /^[A-Za-z0-9_]+/.exec(spec.slice(at));
        if (m === null) return null;
        path.push(m[0]);
        at += m[0].length;
        if (spec[at] !== '/') break;
        at++;
      }
      let sub: Selection | null = null;
      if (spec[at] === '(') {
        at++;
        sub = list();
        if (sub === null || spec[at] !== ')') return null;
        at++;
      }
      merge(out, path, sub);
      if (spec[at] !== ',') return out;
      at++;
    }
  };
  const selection = list();
  return selection !== null && at === spec.length ? selection : null;
}

function merge(into: Selection, path: readonly string[], sub: Selection | null): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    into.set(head!, sub);
    return;
  }
  let inner = into.get(head!);
  if (inner === null) return; // the whole member is already selected
  if (inner === undefined) {
    inner = new Map();
    into.set(head!, inner);
  }
  merge(inner, rest, sub);
}

export function applyFields(value: unknown, selection: Selection): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFields(v, selection));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, sub] of selection) {
    const member = (value as Record<string, unknown>)[name];
    if (member !== undefined) out[name] = sub === null ? member : applyFields(member, sub);
  }
  return out;
}
