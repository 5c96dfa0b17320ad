// Workspace-relative POSIX path patterns: is it a glob, its fixed leading folder, does one path
// hold another. The one definition of "glob" that pipeline validation, the graph, hashing and
// version diffs all use.
import { createRequire } from 'node:module';

/**
 * fast-glob with its dependencies costs ~30 ms to load, more than a 1,000-file status spends on
 * stats; most pipelines name only plain paths, so it is loaded on first need.
 */
export function fastGlob(): typeof import('fast-glob') {
  return createRequire(import.meta.url)('fast-glob') as typeof import('fast-glob');
}

/**
 * Characters without which fast-glob's isDynamicPattern is false: every rule it has needs one of
 * them (`*` `?` `\\`, a leading `!`, `[..]`, `(..)` groups and extglobs, `{..}` braces).
 */
const MAYBE_GLOB = /[*?\\[({]|^!/;

export function isGlob(declared: string): boolean {
  return MAYBE_GLOB.test(declared) && fastGlob().isDynamicPattern(declared);
}

/**
 * Orders records by `path` in code-unit order (as DuckDB and the lock file sort), never by
 * locale: the same list must sort the same on every machine.
 */
export function byPath(a: { readonly path: string }, b: { readonly path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** True when `inner` is `outer` or lies inside the folder `outer` (POSIX, normalised). */
export function pathContains(outer: string, inner: string): boolean {
  return outer === inner || outer === '.' || inner.startsWith(`${outer}/`);
}

/** The part of a glob before its first wildcard segment: `data/raw/**\/*.json` -> `data/raw`. */
export function globBase(glob: string): string {
  const fixed: string[] = [];
  for (const segment of glob.split('/')) {
    if (isGlob(segment)) break;
    fixed.push(segment);
  }
  return fixed.length === 0 ? '.' : fixed.join('/');
}
