// Node's internal fs binding, for the two hot calls of a big folder's look that Node's public API
// wraps in an object per answer: stat (stat-stamp.ts: a Stats object and four Dates per file) and
// readdir with types (dir-entries.ts: a Dirent per entry). At 241,605 uploads those objects, and
// their collection, cost about as much as the system calls.
//
// The binding is internal (process.binding, deprecated DEP0111 in the docs only): each user checks,
// once per thread, that its answers equal the public call's, and falls back to the public call when
// they do not, when the binding lacks the function, or when Node would warn about process.binding
// (--pending-deprecation).

function pendingDeprecation(): boolean {
  return (
    process.execArgv.includes('--pending-deprecation') ||
    (process.env.NODE_OPTIONS ?? '').includes('--pending-deprecation') ||
    process.env.NODE_PENDING_DEPRECATION === '1'
  );
}

/** The binding's function `name`, or undefined when there is none to use (see above). */
function fsBindingFunction<F>(name: string): F | undefined {
  if (pendingDeprecation()) return undefined;
  try {
    const binding = (
      process as unknown as { binding(name: string): Record<string, unknown> }
    ).binding('fs');
    const fn = binding?.[name];
    return typeof fn === 'function' ? (fn.bind(binding) as F) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The binding's `name` made into a call (`wrap`), if it checks out: `agrees` compares its answer
 * with the public call's on a path that exists, and `missing` asks it about one that does not,
 * which must throw ENOENT as the public call does. Undefined otherwise: use the public call.
 */
export function checkedBinding<B, F>(
  name: string,
  wrap: (binding: B) => F,
  agrees: (fast: F) => boolean,
  missing: (fast: F) => void,
): F | undefined {
  const fn = fsBindingFunction<B>(name);
  if (fn === undefined) return undefined;
  try {
    const fast = wrap(fn);
    if (!agrees(fast)) return undefined;
    try {
      missing(fast);
      return undefined; // a missing path that does not throw: not the call we know
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ENOENT' ? fast : undefined;
    }
  } catch {
    return undefined;
  }
}
