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

/** Names per part on average: 100,000 uploads in 1,000 user folders make ~16 parts. */
export const PART_NAMES = 64;

/** 32-bit FNV-1a over the UTF-16 code units: fast, and stable across runs and machines. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The folder's sorted top-level keys (`name` or `name/`), cut into parts, in order. */
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
