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
export function fsBindingFunction<F>(name: string): F | undefined {
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
