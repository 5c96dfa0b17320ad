// Objects used as maps from names a user writes (stage names, paths, param keys) to values.
//
// WHY not `{}`: a plain object inherits Object.prototype, so a lookup of a name that is not a key
// (`deps['toString']`, `stages['constructor']`) finds an inherited function instead of
// undefined, and an assignment to `__proto__` replaces the prototype instead of adding a key.
// A workspace may well hold a file called `constructor`; these records have no prototype, so
// every name is only ever its own key.

/** An empty record with no prototype: `r[name]` is undefined unless `name` was set. */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Object.fromEntries into a record with no prototype. */
export function recordFrom<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const record = emptyRecord<T>();
  for (const [k, v] of entries) record[k] = v;
  return record;
}

/**
 * JSON.parse whose every object has no prototype (a JSON file's keys are user-written names).
 * JSON.parse itself defines `__proto__` as an ordinary key, so only the prototype changes.
 */
export function parseJsonRecords(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.assign(emptyRecord<unknown>(), value)
      : value,
  );
}
