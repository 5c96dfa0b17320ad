// The partitioned tables (docs/data-tables.md): each table is a folder of `<part>.parquet` files,
// read as one table by passing the LIST of its files, sorted, never a glob (a glob is expanded by
// DuckDB at read time, so what it reads is not what the stage listed and checked).
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DepChanges } from '../../lib/stage-api/index.js';
import { sqlPathList } from '../duckdb.js';

/** `part-000000`, `part-000001`, ...: what clean names its parts and every later stage keeps. */
const PART_ID = /^part-\d{6}$/;
/**
 * `part-000003+1`, `+2`, ...: rows ADDED to part-000003 after it was written, in a table that
 * allows them (features' sequences: the sessions of users kept since, docs/data-tables.md).
 */
const ADDED_ID = /^(part-\d{6})\+([1-9]\d*)$/;

export interface Part {
  /** The part id, e.g. `part-000003`: the file name without `.parquet`. */
  readonly id: string;
  /** Absolute path of the part file. */
  readonly path: string;
  /** For an added file (`part-000003+1`): the part it adds to, and its number. */
  readonly added?: { readonly to: string; readonly n: number };
}

export type PartsResult = { ok: true; parts: Part[] } | { ok: false; error: string };

/**
 * The part files of table folder `rel` (workspace-relative, e.g. `data/clean/keystrokes`), sorted
 * by id. A file in the folder that is not `<part id>.parquet` is an error naming it; so is an
 * added file (`<part id>+<n>.parquet`) unless `withAdded`, and then one whose part has no file.
 */
export function tableParts(workspace: string, rel: string, withAdded = false): PartsResult {
  const dir = join(workspace, rel);
  if (!existsSync(dir))
    return { ok: false, error: `${rel}/ is missing: build the stage that writes it first` };
  const parts: Part[] = [];
  const notAPart = (name: string): PartsResult => ({
    ok: false,
    error: `${rel}/${name} is not a part file (<part-NNNNNN>.parquet${withAdded ? ' or <part-NNNNNN>+<n>.parquet' : ''}); remove it or rebuild the stage that writes ${rel}/`,
  });
  for (const name of readdirSync(dir).sort()) {
    const id = name.endsWith('.parquet') ? name.slice(0, -'.parquet'.length) : name;
    if (id === name) return notAPart(name);
    const added = withAdded ? ADDED_ID.exec(id) : null;
    if (added !== null)
      parts.push({ id, path: join(dir, name), added: { to: added[1]!, n: Number(added[2]) } });
    else if (PART_ID.test(id)) parts.push({ id, path: join(dir, name) });
    else return notAPart(name);
  }
  const whole = new Set(parts.filter((p) => p.added === undefined).map((p) => p.id));
  const orphan = parts.find((p) => p.added !== undefined && !whole.has(p.added.to));
  if (orphan !== undefined)
    return notAPart(`${orphan.id}.parquet (no ${orphan.added!.to}.parquet)`);
  return { ok: true, parts };
}

/** `read_parquet([...])` of the parts (an empty list would be an error in DuckDB: say so first). */
export function readParts(parts: readonly Part[]): string {
  if (parts.length === 0) throw new Error('bug: readParts of no parts (check for none first)');
  return `read_parquet(${sqlPathList(parts.map((p) => p.path))})`;
}

/** The part ids whose file `<rel>/<id>.parquet` the dep's change lists name, as changed or deleted. */
export function changedParts(
  changes: DepChanges,
  rel: string,
): { readonly changed: Set<string>; readonly deleted: Set<string> } {
  const idOf = (path: string): string[] => {
    const name = basename(path);
    return path === `${rel}/${name}` && name.endsWith('.parquet')
      ? [name.slice(0, -'.parquet'.length)]
      : [];
  };
  return {
    changed: new Set([...changes.added, ...changes.modified].flatMap(idOf)),
    deleted: new Set(changes.deleted.flatMap(idOf)),
  };
}

/**
 * Writes `content` to `path` without opening an existing file there for writing: in an incremental
 * run the out folder holds hard links to the current outputs (docs/stage-contract.md), which an
 * in-place write would change under the lock's feet.
 */
export function replaceFile(path: string, content: string): void {
  const temp = `${path}.writing`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

/** Unlinks `path` if present (a hard link in an incremental run: the current output stays). */
export function unlink(path: string): void {
  rmSync(path, { force: true });
}

/** Whether two id sets hold the same ids. */
export function sameIds(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((id) => b.has(id));
}
