// A big folder (WORKER_WALK_MIN files or more) is walked and statted on worker threads
// (hash-threads.ts), the way git's preloadIndex spreads lstat over threads: at 241,605 uploads a
// no-op build's walk and stats cost ~1 s on one thread, its whole budget. The folder is cut into
// parts (folder-parts.ts); the workers share the parts out and answer, per part, a digest of its
// files' stamps, plus its paths and stamps only when that digest is not one the folder entry holds.
//
//   here:    the folder's top-level names ──▶ parts ──▶ workers: walk, stat, digest each part
//   every part's digest == the entry's?  yes: the stored hash (a no-op: no path crossed threads,
//                                              no file looked up, the file list only if asked)
//                                        no: the parts that differ: each file's stamp looked up in
//                                              the state cache, misses hashed; the others' manifest
//                                              lines copied from the stored manifest (the entry
//                                              says how many bytes each part has there); the new
//                                              manifest hashed, the entry recorded
// Either way the answer equals hash.ts hashFiles(listFolder(...)).
//
// `pipe status` starts the parts' stats of the folders in .pipe/folders before it has even read
// pipeline.yaml (prefetchFolders), so they run on the workers while this thread loads the
// pipeline; the look is claimed here if the folder's entry is still the one it was made for.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hashMisses } from './hash-files.js';
import { listFolder, manifestHash, sum } from './hash.js';
import {
  noHashCache,
  STAMP_FIELDS,
  WORKER_WALK_MIN,
  type FileHash,
  type FileStamp,
  type HashCache,
  type HashStats,
  type Miss,
  type PathHash,
} from './types.js';
import type { Sha256Hex } from '../util/sha256.js';
import { startWorkers, statPartsOnWorkers } from './hash-threads.js';
import type { PartStamps } from './part-stamps.js';
import {
  FolderStamps,
  stampsDigest,
  UNTRUSTED,
  type FolderEntry,
  type PartEntry,
} from './folder-stamps.js';
import {
  loadManifest,
  parseManifestText,
  readStoredManifest,
  saveManifestText,
} from './manifest-store.js';
import { clockBeforeStats, trustedStamp } from './stat-clock.js';

type DirHash = Extract<PathHash, { readonly files: readonly FileHash[] }>;

/** One look at a folder's parts: their keys, the workers' answers, the clock read before. */
interface Look {
  readonly statTimeMs: number;
  /** Known once the folder is listed (hash-threads.ts: a worker may list it). */
  readonly parts: Promise<readonly (readonly string[])[]>;
  readonly stamps: Promise<PartStamps[]>;
  /** Claims parts on this thread too (hash-threads.ts), while it would only wait. */
  readonly help: () => Promise<void>;
}

function look(
  workspace: string,
  rel: string,
  known: FolderEntry | undefined,
  held = true,
  listOn: 'here' | 'idle-worker' = 'idle-worker',
) {
  const statTimeMs = clockBeforeStats(workspace);
  const digests = (known?.parts ?? []).map((p) => p.digest).filter((d) => d !== UNTRUSTED);
  const sent = statPartsOnWorkers(workspace, rel, digests, held, listOn);
  const started: Look = { statTimeMs, parts: sent.parts, stamps: sent.promise, help: sent.help };
  return { look: started, hold: sent.hold };
}

/** Looks started by prefetchFolders, by workspace and folder, with the entry each was made for. */
const prefetched = new Map<string, { stamps: Sha256Hex; look: Look; hold: () => void }>();

/**
 * Starts the look at every big folder with an entry in `.pipe/folders` of `workspace`, to be
 * claimed by hashBigFolder. An unclaimed look (the folder is no longer declared, pipeline.yaml is
 * broken) neither keeps the process alive nor reports anything: the real look reports.
 */
export function prefetchFolders(workspace: string): void {
  const folders = FolderStamps.load(workspace);
  const big = folders.names().filter((rel) => folders.get(rel)!.files >= WORKER_WALK_MIN);
  startWorkers(big.reduce((n, rel) => n + folders.get(rel)!.files, 0));
  for (const [i, rel] of big.entries()) {
    const known = folders.get(rel)!;
    try {
      // Every folder but the last is listed on a worker while this thread lists the next; the
      // last (or only) one here, as the workers would only send its names back.
      const started = look(
        workspace,
        rel,
        known,
        false,
        i < big.length - 1 ? 'idle-worker' : 'here',
      );
      started.look.stamps.catch(() => {}); // reported when claimed; never unhandled
      prefetched.set(`${workspace}\0${rel}`, { stamps: known.stamps, ...started });
    } catch {
      // The folder went away or cannot be read: the real look says so.
    }
  }
}

function claim(workspace: string, rel: string, known: FolderEntry | undefined): Look | undefined {
  const key = `${workspace}\0${rel}`;
  const pre = prefetched.get(key);
  prefetched.delete(key);
  if (pre === undefined || known === undefined || pre.stamps !== known.stamps) return undefined;
  pre.hold();
  return pre.look;
}

/** `rel` hashed on the workers. */
export async function hashBigFolder(
  workspace: string,
  rel: string,
  cache: HashCache,
  stats: HashStats,
): Promise<DirHash> {
  const known = cache.folder?.(rel);
  const { statTimeMs, parts, stamps, help } =
    claim(workspace, rel, known) ?? look(workspace, rel, known).look;
  await help();
  let answers = await stamps;
  stats.statted += answers.reduce((n, p) => n + p.files, 0);
  if (
    known !== undefined &&
    answers.length === known.parts.length &&
    answers.every((p, i) => p.changed === undefined && p.digest === known.parts[i]!.digest)
  )
    return storedFolder(workspace, rel, { ...known, count: known.files }, cache);

  // Where each part that did not change has its lines in the stored manifest.
  const old = new Map<string, { entry: PartEntry; offset: number }>();
  let offset = 0;
  for (const entry of known?.parts ?? []) {
    if (entry.digest !== UNTRUSTED) old.set(entry.digest, { entry, offset });
    offset += entry.bytes;
  }
  let oldText: Buffer | undefined;
  if (answers.some((p) => p.changed === undefined)) {
    oldText = readStoredManifest(workspace, known!.sha256);
    if (oldText?.length !== offset) {
      // The manifest is gone (or not this entry's): those parts are looked at again, in full.
      oldText = undefined;
      const again = statPartsOnWorkers(workspace, rel, [], true, await parts);
      await again.help();
      const whole = await again.promise;
      answers = answers.map((p, i) => (p.changed === undefined ? whole[i]! : p));
    }
  }

  // Each changed part's files looked up by stamp; the misses hashed.
  const rels: string[] = [];
  const out: FileHash[] = [];
  const misses: Miss[] = [];
  for (const part of answers) {
    if (part.changed === undefined) continue;
    const s = part.changed.stamps;
    part.changed.rels.forEach((path, k) => {
      const at = STAMP_FIELDS * k;
      const stamp = { size: s[at]!, mtimeMs: s[at + 1]!, ino: s[at + 2]!, dev: s[at + 3]! };
      const index = rels.push(path) - 1;
      const sha = cache.lookup(`${workspace}/${path}`, stamp);
      if (sha !== undefined) out[index] = { path, sha256: sha, size: stamp.size };
      else misses.push({ index, abs: `${workspace}/${path}`, stamp });
    });
  }
  await hashMisses(rels, misses, out, cache, stats, statTimeMs);

  // A name with a character below the tab sorts its manifest lines apart from the path order
  // (hash.ts manifestChunks): no copying lines by part then, and no entry.
  if (rels.some(belowTab)) {
    const all: FileHash[] = [];
    let at = 0;
    for (const part of answers) {
      if (part.changed === undefined) {
        const was = old.get(part.digest)!;
        const lines = oldText!.subarray(was.offset, was.offset + was.entry.bytes);
        for (const f of parseManifestText(lines.toString('utf8'), `${rel}/`)!) all.push(f);
      } else for (let k = 0; k < part.files; k++) all.push(out[at++]!);
    }
    cache.rememberFolder?.(rel, undefined);
    return { kind: 'dir', path: rel, sha256: manifestHash(all, rel), size: sum(all), files: all };
  }

  const cut = rel.length + 1;
  const pieces: Buffer[] = [];
  const entries: PartEntry[] = [];
  let next = 0;
  for (const part of answers) {
    if (part.changed === undefined) {
      const was = old.get(part.digest)!;
      pieces.push(oldText!.subarray(was.offset, was.offset + was.entry.bytes));
      entries.push(was.entry);
      continue;
    }
    let text = '';
    for (let k = 0; k < part.files; k++) {
      const f = out[next++]!;
      text += `${f.path.slice(cut)}\t${f.sha256}\t${f.size}\n`;
    }
    const piece = Buffer.from(text);
    pieces.push(piece);
    const trusted = trustedStamp(part.newestMtimeMs, part.dev, statTimeMs);
    const digest = trusted ? part.digest : UNTRUSTED;
    entries.push({ digest, files: part.files, size: part.size, bytes: piece.length });
  }
  const hash = createHash('sha256');
  for (const piece of pieces) hash.update(piece);
  const sha256 = hash.digest('hex') as Sha256Hex;
  const entry: FolderEntry = {
    stamps: stampsDigest(
      entries.reduce((n, p) => n + p.files, 0),
      entries.map((p) => p.digest),
    ),
    sha256,
    size: entries.reduce((n, p) => n + p.size, 0),
    files: entries.reduce((n, p) => n + p.files, 0),
    parts: entries,
  };
  // A kept entry lets the next run answer from the digests alone, and copy the lines of parts
  // that did not change from the manifest store; naming a changed file (plan.ts) reads it too. A
  // build recording this folder would store the same list under the same hash.
  const kept = entries.some((p) => p.digest !== UNTRUSTED) ? entry : undefined;
  cache.rememberFolder?.(rel, kept);
  if (kept !== undefined && cache.rememberFolder !== undefined) {
    await saveManifestText(workspace, sha256, pieces);
    // The list, if anyone asks, from the store: the old manifest's bytes (95 MB at 1,000,000
    // files) are not kept alive for it.
    if (oldText !== undefined)
      return storedFolder(workspace, rel, { ...entry, count: entry.files }, cache);
  }
  // Every part looked up: the list is at hand. Otherwise it is made from the text when read.
  const made = { sha256, size: entry.size, count: entry.files };
  return folderFromText(rel, made, pieces, oldText === undefined ? out : undefined);
}

/**
 * A folder's hash whose file list is `files` when at hand, else made from its manifest's text
 * (in `pieces`, the bytes its hash was taken over) only when someone reads it.
 */
export function folderFromText(
  rel: string,
  known: { readonly sha256: Sha256Hex; readonly size: number; readonly count: number },
  pieces: readonly Uint8Array[],
  files?: readonly FileHash[],
): DirHash {
  let list = files;
  return {
    kind: 'dir' as const,
    path: rel,
    sha256: known.sha256,
    size: known.size,
    count: known.count,
    get files(): readonly FileHash[] {
      list ??= parseManifestText(Buffer.concat(pieces).toString('utf8'), `${rel}/`)!;
      return list;
    },
  };
}

function belowTab(path: string): boolean {
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) < 9) return true;
  return false;
}

/**
 * The folder as its entry recorded it. Its file list is not needed to judge freshness, so it is
 * made only when read (a stage that ran records its deps' manifests, push lists files): from the
 * manifest store (checked against the hash), or else by walking the folder again.
 */
export function storedFolder(
  workspace: string,
  rel: string,
  known: { readonly sha256: Sha256Hex; readonly size: number; readonly count: number },
  cache: HashCache = noHashCache,
): DirHash {
  const h: DirHash = {
    kind: 'dir' as const,
    path: rel,
    sha256: known.sha256,
    size: known.size,
    count: known.count,
    get files(): readonly FileHash[] {
      // loadManifest checks the list against its hash.
      return loadManifest(workspace, known.sha256, rel) ?? hashFolderSync(workspace, rel, cache);
    },
  };
  stored.add(h);
  return h;
}

const stored = new WeakSet<PathHash>();

/** Whether `h` came from storedFolder (reading its `files` costs a load or a walk). */
export function isStoredFolder(h: PathHash): boolean {
  return stored.has(h);
}

/** hashFiles(listFolder(...)) without awaiting: the rare fallback of a getter. */
function hashFolderSync(workspace: string, rel: string, cache: HashCache): FileHash[] {
  const statTimeMs = clockBeforeStats(workspace);
  return listFolder(workspace, rel).map((path) => {
    const abs = `${workspace}/${path}`;
    const st = statSync(abs);
    const stamp: FileStamp = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, dev: st.dev };
    let sha = cache.lookup(abs, stamp);
    if (sha === undefined) {
      sha = createHash('sha256').update(readFileSync(abs)).digest('hex') as Sha256Hex;
      cache.remember(abs, stamp, sha, statTimeMs);
    }
    return { path, sha256: sha, size: stamp.size };
  });
}
