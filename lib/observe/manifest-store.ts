// `.pipe/manifests/<sha>.txt`: the per-file list behind a folder's or glob's manifest hash.
// The lock file keeps only the hash (so it stays small and diffs well); this store lets
// `pipe status` name the file inside a folder that changed, and `pipe push` list the files.
// Content-addressed: a manifest is written once under its own hash and never changed, so two
// builds can write the same one without harm. Missing manifests (fresh clone) are not an error:
// callers fall back to naming the folder.
//
// The file is the manifest's own text, the bytes the hash is taken over (hash.ts manifestChunks:
// `<path relative to base>\t<sha256>\t<size>\n` per file, sorted). WHY: at 100,000 files the JSON
// rows this store used to hold cost more to parse than the whole no-op status, and were trusted
// unchecked; the text is checked by hashing it (~10 ms per 10 MB) and read line by line. Lists
// stored as `<sha>.json` (`{"version":1,"files":[...]}`, before) are still read, and checked too.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../util/atomic-write.js';
import { manifestChunks, manifestHash } from './hash.js';
import type { FileHash } from './types.js';
import type { Sha256Hex } from '../util/sha256.js';

export const MANIFEST_DIR = '.pipe/manifests';

/** A manifest: files relative to `base` (a folder; '' for a glob, whose paths are workspace-relative). */
export interface Manifest {
  readonly base: string;
  readonly files: readonly FileHash[];
}

function manifestPath(workspace: string, sha: Sha256Hex, ext: 'txt' | 'json' = 'txt'): string {
  return join(workspace, MANIFEST_DIR, `${sha}.${ext}`);
}

/** Stores `files` (workspace-relative) under their manifest hash, unless already stored. */
export async function saveManifest(
  workspace: string,
  base: string,
  files: readonly FileHash[],
): Promise<Sha256Hex> {
  const chunks: Buffer[] = [];
  const hash = createHash('sha256');
  manifestChunks(files, base, (chunk) => {
    const bytes = Buffer.from(chunk);
    chunks.push(bytes);
    hash.update(bytes);
  });
  const sha = hash.digest('hex') as Sha256Hex;
  // Stored as saveManifestText stores it, and on disk when this returns.
  await saveManifestText(workspace, sha, chunks);
  await flushManifestWrites();
  return sha;
}

/** Whether manifest `sha` is in the store, or being written (its bytes are checked when read). */
export function manifestStored(workspace: string, sha: Sha256Hex): boolean {
  const path = manifestPath(workspace, sha);
  return writing.has(path) || existsSync(path);
}

/** Manifests being written in the background (saveManifestText), by path. */
const writing = new Map<string, Promise<void>>();
/** Why a background write failed, until flushManifestWrites reports it. */
const failures: unknown[] = [];

/**
 * Stores a manifest's text (hash.ts manifestChunks), in pieces, under `sha`, its hash, unless
 * already stored. The write goes on in the background (a 30 MB manifest of the uploads is ~80 ms
 * of a build's critical path at 241,605 uploads, and the stage it is observed for can run
 * meanwhile); this process reads it from memory, and flushManifestWrites, which comes before
 * anything that names it is written (the lock, .pipe/folders), waits for it. `text` must not
 * change after the call.
 */
export async function saveManifestText(
  workspace: string,
  sha: Sha256Hex,
  text: readonly Uint8Array[],
): Promise<void> {
  const path = manifestPath(workspace, sha);
  // One copy of the text, kept for reads and written as it is (not joined again for the write).
  const bytes = Buffer.concat(text);
  verified.keep(path, bytes);
  if (writing.has(path) || existsSync(path)) return;
  const write = writeFileAtomic(path, bytes).then(
    () => {
      writing.delete(path);
    },
    (error: unknown) => {
      writing.delete(path);
      failures.push(error);
    },
  );
  writing.set(path, write);
}

/** Waits for the manifests saveManifestText is writing; throws the first write that failed. */
export async function flushManifestWrites(): Promise<void> {
  await Promise.all([...writing.values()]);
  const failed = failures.splice(0);
  if (failed.length > 0) throw failed[0];
}

/**
 * Manifests this process read and checked, or wrote, by path: one build reads the same few again
 * and again (a folder's old manifest to copy lines from, both sides of a diff, the lines a stage
 * is handed), and at 241,605 files each read and check cost ~0.1 s. Content-addressed files
 * never change, so a kept copy stays right; the newest are kept, up to a total size.
 */
class VerifiedManifests {
  static readonly MAX_BYTES = 160 * 1024 * 1024;
  readonly #byPath = new Map<string, Buffer>();
  #bytes = 0;

  get(path: string): Buffer | undefined {
    const bytes = this.#byPath.get(path);
    if (bytes !== undefined) {
      this.#byPath.delete(path);
      this.#byPath.set(path, bytes);
    }
    return bytes;
  }

  keep(path: string, bytes: Buffer): void {
    if (bytes.length > VerifiedManifests.MAX_BYTES) return;
    const had = this.#byPath.get(path);
    if (had !== undefined) this.#bytes -= had.length;
    this.#byPath.delete(path);
    this.#byPath.set(path, bytes);
    this.#bytes += bytes.length;
    for (const [oldest, b] of this.#byPath) {
      if (this.#bytes <= VerifiedManifests.MAX_BYTES) break;
      this.#byPath.delete(oldest);
      this.#bytes -= b.length;
    }
  }
}

const verified = new VerifiedManifests();

/**
 * The files of a stored manifest, made workspace-relative again by prefixing `base`, in its line
 * order (path order, unless a path continues another with a character below the tab); undefined when it is not stored, unreadable or does not hash to `sha`.
 */
export function loadManifest(
  workspace: string,
  sha: Sha256Hex,
  base: string,
): FileHash[] | undefined {
  const prefix = base === '' ? '' : `${base}/`;
  const path = manifestPath(workspace, sha);
  if (verified.get(path) === undefined && !existsSync(path))
    return loadJsonManifest(workspace, sha, base);
  const bytes = readStoredManifest(workspace, sha);
  return bytes === undefined ? undefined : parseManifestText(bytes.toString('utf8'), prefix);
}

/** The text of stored manifest `sha`; undefined when it is not stored, unreadable or not its hash. */
export function readStoredManifest(workspace: string, sha: Sha256Hex): Buffer | undefined {
  const path = manifestPath(workspace, sha);
  const kept = verified.get(path);
  if (kept !== undefined) return kept;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return undefined;
  }
  if (createHash('sha256').update(bytes).digest('hex') !== sha) return undefined;
  verified.keep(path, bytes);
  return bytes;
}

/** Lines `<path>\t<sha256>\t<size>\n` to files, `prefix` put before each path. */
export function parseManifestText(text: string, prefix: string): FileHash[] | undefined {
  const files: FileHash[] = [];
  for (let pos = 0; pos < text.length; ) {
    const tab = text.indexOf('\t', pos);
    const end = text.indexOf('\n', tab);
    // `path \t 64 hex \t size`: a line any shorter or without both tabs is not ours.
    if (tab === -1 || end === -1 || text.charCodeAt(tab + 65) !== TAB) return undefined;
    files.push({
      path: prefix + text.slice(pos, tab),
      sha256: text.slice(tab + 1, tab + 65) as Sha256Hex,
      size: Number(text.slice(tab + 66, end)),
    });
    pos = end + 1;
  }
  return files;
}

const TAB = 9;

/** A list stored by an earlier pipe as JSON rows, if it hashes to `sha`. */
function loadJsonManifest(workspace: string, sha: Sha256Hex, base: string): FileHash[] | undefined {
  let rows: { path: string; sha256: Sha256Hex; size: number }[];
  try {
    rows = (
      JSON.parse(readFileSync(manifestPath(workspace, sha, 'json'), 'utf8')) as {
        files: typeof rows;
      }
    ).files;
  } catch {
    return undefined;
  }
  if (!Array.isArray(rows)) return undefined;
  const prefix = base === '' ? '' : `${base}/`;
  const files = rows.map((r) => ({ path: prefix + r.path, sha256: r.sha256, size: r.size }));
  return manifestHash(files, base) === sha ? files : undefined;
}
