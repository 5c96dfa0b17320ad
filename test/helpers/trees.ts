// What a workspace's stage outputs hold, as comparable values: every file under an out, by its
// path and sha256. Builds of the same inputs write byte-identical outputs (the committed
// pipeline.lock reproduces on a fresh clone), so "this stage's outputs are the reference's" is
// plain equality of these maps, computed here independently of pipe's own hashing and caches.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** path (relative to the workspace) → sha256; null when the out is absent. */
export type Tree = ReadonlyMap<string, string> | null;

export function treeOf(root: string, out: string): Tree {
  const top = join(root, out);
  if (!existsSync(top)) return null;
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    const abs = join(root, rel);
    if (statSync(abs).isDirectory()) {
      for (const name of readdirSync(abs).sort()) walk(`${rel}/${name}`);
    } else {
      files.set(rel, createHash('sha256').update(readFileSync(abs)).digest('hex'));
    }
  };
  walk(out);
  return files;
}

export function sameTree(a: Tree, b: Tree): boolean {
  if (a === null || b === null) return a === b;
  if (a.size !== b.size) return false;
  for (const [path, sha] of a) if (b.get(path) !== sha) return false;
  return true;
}

/** A stage's outs in one workspace, as a tuple of trees (one per declared out). */
export type Outs = readonly Tree[];

export function outsOf(root: string, outs: readonly string[]): Outs {
  return outs.map((out) => treeOf(root, out));
}

export function sameOuts(a: Outs, b: Outs): boolean {
  return a.length === b.length && a.every((tree, i) => sameTree(tree, b[i] ?? null));
}
