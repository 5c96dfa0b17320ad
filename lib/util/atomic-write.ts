// Writing a file so that readers see the old content or the new, never half of either: write a
// temp file beside the target (same filesystem, so rename is atomic), flush it, then rename.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type FileHandle, lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * `content` may come in pieces, written one after another: a 100 MB cache file written from the
 * slices it is made of is never joined into one more 100 MB string.
 */
export async function writeFileAtomic(
  path: string,
  content: string | Uint8Array | readonly (string | Uint8Array)[],
): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  // The temp name starts with the target's so a leftover (after SIGKILL) is easy to recognise.
  const temp = join(
    dirname(path),
    `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await open(temp, 'w');
  try {
    if (typeof content === 'string' || content instanceof Uint8Array)
      await handle.writeFile(content);
    else for (const piece of coalesced(content)) await writePiece(handle, piece);
    // Flush before rename: otherwise a power loss can leave the new name pointing at empty data.
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Bytes of small byte pieces joined into one write. */
const JOIN_BYTES = 1 << 22;

/**
 * Runs of byte pieces joined into writes of up to JOIN_BYTES: each write is a round trip to the
 * thread pool, and a 30 MB manifest copied a part at a time comes in 3,846 pieces (0.3 s of
 * writes one by one at 241,605 uploads, ~20 ms joined).
 */
function* coalesced(
  pieces: readonly (string | Uint8Array)[],
): Generator<string | Uint8Array, void, undefined> {
  let run: Uint8Array[] = [];
  let bytes = 0;
  const flush = () => {
    const joined = run.length === 1 ? run[0]! : Buffer.concat(run, bytes);
    run = [];
    bytes = 0;
    return joined;
  };
  for (const piece of pieces) {
    if (typeof piece === 'string' || piece.length >= JOIN_BYTES) {
      if (run.length > 0) yield flush();
      yield piece;
      continue;
    }
    if (bytes + piece.length > JOIN_BYTES) yield flush();
    run.push(piece);
    bytes += piece.length;
  }
  if (run.length > 0) yield flush();
}

/** Characters of a string piece encoded at a time: a 100 MB slice is not one 100 MB Buffer. */
const STRING_CHUNK = 1 << 22;

async function writePiece(handle: FileHandle, piece: string | Uint8Array): Promise<void> {
  if (typeof piece !== 'string') return handle.writeFile(piece);
  for (let from = 0; from < piece.length; ) {
    let to = Math.min(piece.length, from + STRING_CHUNK);
    // Never between the two halves of a surrogate pair: each half alone would encode as U+FFFD.
    const last = piece.charCodeAt(to - 1);
    if (to < piece.length && last >= 0xd800 && last <= 0xdbff) to--;
    await handle.writeFile(piece.slice(from, to));
    from = to;
  }
}

/**
 * Puts `staged` (a file or folder) at `workspace/rel`, replacing what is there. The old one is moved
 * under `aside` first, by rename, so the path never holds a half-deleted folder. Only for
 * replace-outs.ts, which makes a list of these one unit a kill cannot leave half-done.
 * lstat, not exists: a dangling symlink at the target must be moved aside too.
 */
export async function replaceByRename(
  workspace: string,
  rel: string,
  staged: string,
  aside: string,
): Promise<void> {
  const final = join(workspace, rel);
  mkdirSync(dirname(final), { recursive: true });
  if (
    await lstat(final).then(
      () => true,
      () => false,
    )
  ) {
    const old = join(aside, rel);
    mkdirSync(dirname(old), { recursive: true });
    await rename(final, old);
  }
  await rename(staged, final);
}
