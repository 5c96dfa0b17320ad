// A big folder is observed in PARTS: runs of its top-level entries (files and subfolders, in
// sorted order, hash.ts folderKeys), each with everything under it. Parts are what the stat
// workers share out (two workers stat two halves of a no-op's folder at once) and what the folder
// entry digests one by one (folder-stamps.ts), so one changed upload costs the lookups of its part
// only.
//
// WHERE a part ends is decided by the entry names alone, content-defined like rsync's chunks: after
// each name whose FNV-1a hash is 0 modulo PART_NAMES (one name in PART_NAMES on average). So a new
// user folder in uploads/ changes one part's boundaries, not every part after it as fixed-size
// runs would, and the parts do not depend on the machine's number of cores.
//
//   uploads/ user00000/ … user00063/ | user00064/ … | … | user00999/      (about 64 names a part)
//            └──────── part 0 ───────┘└── part 1 ──┘     └ last part ┘
//
// A folder with few top-level names is opened up first (partKeys): `samples/` holding only
// `webapp/` (241,605 uploads) would otherwise be one part, and one new upload would cost the
// lookups of all of them. Its keys become `webapp/<name>`, each still everything under it.
import { folderKeys } from './hash.js';

/** Names per part on average: 100,000 uploads in 1,000 user folders make ~16 parts. */
export const PART_NAMES = 64;

/** Below this many keys a folder's subfolders are opened up into their own keys. */
const OPEN_UP_BELOW = 4 * PART_NAMES;
/** How many levels of few-name folders are opened up (`data/raw/webapp/2026/...` needs 2-3). */
const OPEN_UP_LEVELS = 4;

/**
 * The keys to cut `dir` into parts by: its sorted top-level keys (`name` or `name/`, hash.ts
 * folderKeys), with every subfolder replaced by its own keys (`name/child`, `name/sub/`) while
 * there are fewer than OPEN_UP_BELOW. A subfolder's keys sort together where it sorted (its paths
 * share its `name/` prefix), so walking the keys in order still lists the folder in path order.
 */
export function partKeys(workspace: string, dir: string): string[] {
  let keys = folderKeys(workspace, dir);
  for (let level = 0; level < OPEN_UP_LEVELS && keys.length < OPEN_UP_BELOW; level++) {
    if (!keys.some((k) => k.endsWith('/'))) break;
    keys = keys.flatMap((k) =>
      k.endsWith('/') ? folderKeys(workspace, `${dir}/${k.slice(0, -1)}`).map((c) => k + c) : [k],
    );
  }
  return keys;
}

/** 32-bit FNV-1a over the UTF-16 code units: fast, and stable across runs and machines. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A folder's keys (partKeys), cut into parts, in order. */
export function splitParts(keys: readonly string[]): string[][] {
  const parts: string[][] = [];
  let part: string[] = [];
  for (const key of keys) {
    part.push(key);
    if (fnv1a(key) % PART_NAMES === 0) {
      parts.push(part);
      part = [];
    }
  }
  if (part.length > 0 || parts.length === 0) parts.push(part);
  return parts;
}
