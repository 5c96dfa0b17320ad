// Which files differ between two stored manifests (manifest-store.ts), read straight from their
// bytes: one merge pass over two sorted texts, comparing whole lines natively and making strings
// only for the lines that differ. At 100,000 files, parsing both lists into objects to merge them
// cost more than the rest of a one-file-changed status (and at 1,000,000 most of its memory).
import { isAscii } from 'node:buffer';
import { readStoredManifest } from './manifest-store.js';
import type { Sha256Hex } from '../util/sha256.js';

export interface FileChange {
  readonly change: 'added' | 'modified' | 'deleted';
  /** Workspace-relative. */
  readonly file: string;
}

const TAB = 9;
const NL = 10;
/** Bytes compared at once while the two manifests agree. */
const BLOCK = 1 << 16;

/** Diffs this process already knows (one it made by splicing `from` into `to`), by their key. */
const known = new Map<string, FileChange[]>();

const knownKey = (workspace: string, from: Sha256Hex, to: Sha256Hex, base: string): string =>
  `${workspace}\0${from}\0${to}\0${base}`;

/**
 * Records what differs from manifest `from` to `to` when the caller made `to` from `from` and
 * knows (build/outs-after-changes.ts): storedManifestDiff then answers without reading either.
 */
export function rememberManifestDiff(
  workspace: string,
  from: Sha256Hex,
  to: Sha256Hex,
  base: string,
  changes: readonly FileChange[],
): void {
  known.set(knownKey(workspace, from, to, base), [...changes]);
}

/**
 * The files added, modified and deleted from manifest `from` to manifest `to` (paths relative to
 * `base`, '' for a glob), in manifest order; undefined when either is not stored (or not checked
 * against its hash), or holds a non-ASCII path: then byte order may not be the code-unit order the
 * lines were sorted in, and the caller merges the parsed lists instead.
 */
export function storedManifestDiff(
  workspace: string,
  from: Sha256Hex,
  to: Sha256Hex,
  base: string,
): FileChange[] | undefined {
  const remembered = known.get(knownKey(workspace, from, to, base));
  if (remembered !== undefined) return [...remembered];
  const a = readStoredManifest(workspace, from);
  const b = a === undefined ? undefined : readStoredManifest(workspace, to);
  if (a === undefined || b === undefined || !isAscii(a) || !isAscii(b)) return undefined;
  const prefix = base === '' ? '' : `${base}/`;
  const changes: FileChange[] = [];
  const path = (buf: Buffer, start: number, tab: number): string =>
    prefix + buf.toString('latin1', start, tab);
  let i = 0;
  let j = 0;
  // Where a block is next tried (below), in `a`'s bytes.
  let blockAt = 0;
  while (i < a.length || j < b.length) {
    // Runs of equal lines skipped a block at a time: between the few lines an upload changes,
    // 241,605 lines cost ~28 ms one by one, a memcmp per 64 KiB instead. Equal bytes from two
    // line starts hold the same lines, so the last newline in the block is a line start in both.
    // After a block that differs, lines are taken one by one for a block's length.
    if (i >= blockAt && i + BLOCK <= a.length && j + BLOCK <= b.length) {
      if (a.compare(b, j, j + BLOCK, i, i + BLOCK) === 0) {
        const last = a.lastIndexOf(NL, i + BLOCK - 1);
        if (last >= i) {
          j += last + 1 - i;
          i = last + 1;
          continue;
        }
      }
      blockAt = i + BLOCK;
    }
    const ea = i < a.length ? a.indexOf(NL, i) : -1;
    const eb = j < b.length ? b.indexOf(NL, j) : -1;
    if ((ea === -1 && i < a.length) || (eb === -1 && j < b.length)) return undefined; // no final \n
    // The common case first: the same line on both sides, compared by memcmp.
    if (ea !== -1 && eb !== -1 && ea - i === eb - j && a.compare(b, j, eb, i, ea) === 0) {
      i = ea + 1;
      j = eb + 1;
      continue;
    }
    const ta = ea === -1 ? -1 : a.indexOf(TAB, i);
    const tb = eb === -1 ? -1 : b.indexOf(TAB, j);
    // Lines sort by `<path>\t`: comparing through the tab keeps "a" before "a\x01b" as the sort did.
    const order = ta === -1 ? 1 : tb === -1 ? -1 : a.compare(b, j, tb + 1, i, ta + 1);
    if (order < 0) {
      changes.push({ change: 'deleted', file: path(a, i, ta) });
      i = ea + 1;
    } else if (order > 0) {
      changes.push({ change: 'added', file: path(b, j, tb) });
      j = eb + 1;
    } else {
      // Same path, other line: the content hash differs (a size alone cannot, for equal content).
      if (a.compare(b, tb + 1, tb + 65, ta + 1, ta + 65) !== 0)
        changes.push({ change: 'modified', file: path(b, j, tb) });
      i = ea + 1;
      j = eb + 1;
    }
  }
  return changes;
}
