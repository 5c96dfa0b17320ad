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
// A folder with few top-level names is opened up first (folderParts): `samples/` holding only
// `webapp/` (241,605 uploads) would otherwise be one part, and one new upload would cost the
// lookups of all of them. Its keys become `webapp/<name>`, each still everything under it.
import { folderKeys } from './hash.js';

/** Names per part on average: 100,000 uploads in 1,000 user folders make ~16 parts. */
export const PART_NAMES = 64;

/** Below this many keys a folder's subfolders are opened up into their own keys. */
const OPEN_UP_BELOW = 4 * PART_NAMES;
/** How many levels of few-name folders are opened up (`data/raw/webapp/2026/...` needs 2-3). */
const OPEN_UP_LEVELS = 4;

/** FNV-1a's start, and its state after `s` continued from `h` (UTF-16 code units). */
const FNV_START = 0x811c9dc5;
function fnv1aFrom(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/**
 * `dir`'s keys, cut into parts, in order. The keys are its sorted top-level keys (`name` or
 * `name/`, hash.ts folderKeys), with every subfolder replaced by its own keys (`name/child`,
 * `name/sub/`) while there are fewer than OPEN_UP_BELOW. A subfolder's keys sort together where
 * it sorted (its paths share its `name/` prefix), so walking the keys in order still lists the
 * folder in path order. A part ends after each key whose 32-bit FNV-1a hash is 0 modulo PART_NAMES.
 *
 * An opened-up key's hash continues from its folder's (`name/`), over the child's name alone:
 * hashing `name/` + child would make V8 flatten 241,605 joined strings (~12 MB of copies and their
 * collection on the critical path of a build of the web app's samples/webapp).
 */
export function folderParts(workspace: string, dir: string): string[][] {
  let keys = folderKeys(workspace, dir);
  /** The FNV-1a state of each key, where it is known without reading the key. */
  let states: (number | undefined)[] = [];
  for (let level = 0; level < OPEN_UP_LEVELS && keys.length < OPEN_UP_BELOW; level++) {
    if (!keys.some((k) => k.endsWith('/'))) break;
    const openedKeys: string[] = [];
    const openedStates: (number | undefined)[] = [];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (!k.endsWith('/')) {
        openedKeys.push(k);
        openedStates.push(states[i]);
        continue;
      }
      const from = states[i] ?? fnv1aFrom(FNV_START, k);
      for (const child of folderKeys(workspace, `${dir}/${k.slice(0, -1)}`)) {
        openedKeys.push(k + child);
        openedStates.push(fnv1aFrom(from, child));
      }
    }
    keys = openedKeys;
    states = openedStates;
  }
  const parts: string[][] = [];
  let part: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    part.push(key);
    if (((states[i] ?? fnv1aFrom(FNV_START, key)) >>> 0) % PART_NAMES === 0) {
      parts.push(part);
      part = [];
    }
  }
  if (part.length > 0 || parts.length === 0) parts.push(part);
  return parts;
}
