// A file's stamp (size, mtime, inode, device) for the stat pass over a big folder, without the
// fs.Stats object statSync builds around it.
//
// WHY: a look at the web app's uploads and data/raw stats 483,210 files. On Node 20 each statSync
// makes a Stats object and four Date objects; their allocation and collection cost about as much
// user CPU as the stats' own JavaScript, and that pass is most of a one-upload build (3.4 s to
// 3.1 s with this, bench/results/incremental.md). Node's fs binding answers the same stat(2) as a
// shared Float64Array, which is all a stamp needs.
//
// The binding is internal to Node (fs-binding.ts), so it is used only when it checks out, once per
// thread: a file's stamp from it must equal statSync's, field by field, and a missing path must
// throw ENOENT as statSync does. Otherwise every stamp comes from statSync.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkedBinding } from './fs-binding.js';

/** What statSync's binding answers: Node's kFsStatsFieldsNumber fields of one stat(2). */
type BindingStat = (
  path: string,
  bigint: false,
  req: undefined,
  throwIfNoEntry: true,
) => Float64Array;

// Positions in the binding's answer (Node's src/node_file.h FillStatsArray order).
const DEV = 0;
const INO = 7;
const SIZE = 8;
const MTIME_SEC = 12;
const MTIME_NSEC = 13;

/** A stamp as stat(2) gives it, following symlinks (as hash.ts hashFiles does). */
export interface Stamp {
  size: number;
  mtimeMs: number;
  ino: number;
  dev: number;
}

/** Fills `into` with `path`'s stamp; throws what statSync throws for a path it cannot stat. */
export type StatStamp = (path: string, into: Stamp) => void;

function fromStatSync(path: string, into: Stamp): void {
  const st = statSync(path);
  into.size = st.size;
  into.mtimeMs = st.mtimeMs;
  into.ino = st.ino;
  into.dev = st.dev;
}

function fromBinding(stat: BindingStat): StatStamp {
  return (path, into) => {
    const s = stat(path, false, undefined, true);
    into.size = s[SIZE]!;
    // Node's own msFromTimeSpec: the same double statSync's mtimeMs is.
    into.mtimeMs = s[MTIME_SEC]! * 1e3 + s[MTIME_NSEC]! / 1e6;
    into.ino = s[INO]!;
    into.dev = s[DEV]!;
  };
}

/** The binding's stamps if they agree with statSync's on this file and on a missing path. */
function fastStat(): StatStamp | undefined {
  const here = fileURLToPath(import.meta.url);
  return checkedBinding<BindingStat, StatStamp>(
    'stat',
    fromBinding,
    (fast) => {
      const a: Stamp = { size: -1, mtimeMs: -1, ino: -1, dev: -1 };
      const b: Stamp = { ...a };
      fast(here, a);
      fromStatSync(here, b);
      return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino && a.dev === b.dev;
    },
    (fast) => fast(`${here}.missing/x`, { size: -1, mtimeMs: -1, ino: -1, dev: -1 }),
  );
}

let chosen: StatStamp | undefined;

/** The stat this thread stamps files with: the binding's when it checks out, else statSync's. */
export function statStamp(): StatStamp {
  chosen ??= fastStat() ?? fromStatSync;
  return chosen;
}

/** statSync's stamps, for the test that compares the two. */
export const statStampSlow: StatStamp = fromStatSync;

/** Whether this thread stamps through the binding (for the test that it is used here). */
export function statStampIsFast(): boolean {
  return statStamp() !== fromStatSync;
}
