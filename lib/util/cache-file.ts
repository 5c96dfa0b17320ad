// The plain-text caches under .pipe/ (state-small, folders, a remote's known objects) share one
// shape: a first line naming the format, then one record per line. A cache that is missing,
// unreadable or of another format is simply empty: it only saves work, and is rebuilt on save.
import { readFileSync } from 'node:fs';

/** The lines after the header of the cache file at `path`, or undefined when it cannot be used. */
export function readCacheLines(path: string, header: string): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const [first, ...lines] = text.split('\n');
  return first === header ? lines : undefined;
}
