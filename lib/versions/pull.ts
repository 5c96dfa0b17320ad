// `pipe pull` and the remote build cache: put a published version's outputs in the workspace.
//
//   manifest (validated) ─▶ what the workspace lacks ─▶ objects into .pipe/tmp/pull-*/ (each
//   sha256-checked as it streams) ─▶ every out assembled there ─▶ paths checked on disk ─▶
//   old outs moved aside, new ones renamed in ─▶ (caller) lock entries written last
//
// Nothing reaches an out's final path before every object has been downloaded and verified, so
// a corrupt or truncated object leaves the workspace exactly as it was. A kill during the final
// renames leaves an out missing or not matching the lock: stale, never something that looks fresh.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { replaceByRename } from '../util/atomic-write.js';
import { isGlob } from '../util/paths.js';
import { manifestHash } from '../observe/hash.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { LockEntry } from '../build/lockfile.js';
import { saveManifest } from '../observe/manifest-store.js';
import type { Remote } from '../remote/remote.js';
import { workspaceDestination } from '../remote/remote-path.js';
import { TMP_DIR } from '../build/runner.js';
import { runTransfers, type TransferOptions } from '../remote/transfer-progress.js';
import { err, ok, type Result } from '../util/result.js';
import type { VersionFile, VersionManifest } from './manifest.js';
import { invalidVersion, type VersionError } from './version-error.js';

/** One declared out of a stage in a version, with the files that make it up. */
export interface OutPlacement {
  readonly stage: string;
  readonly out: string;
  readonly kind: 'file' | 'dir' | 'glob';
  readonly files: readonly VersionFile[];
}

/** What a pull placed: objects and bytes downloaded, files placed, the lock entries to write. */
export interface Placed {
  readonly downloaded: number;
  readonly bytes: number;
  readonly placed: number;
  readonly entries: Record<string, LockEntry>;
}

/**
 * Splits each stage's files over its declared outs and checks that they hash to what its lock
 * entry says, so the lock written after the pull describes exactly the bytes placed. A file that
 * belongs to no declared out is refused: a manifest may only write where the stage writes.
 */
export function placements(
  manifest: VersionManifest,
  stages: readonly string[],
): Result<OutPlacement[], string> {
  const result: OutPlacement[] = [];
  for (const stage of stages) {
    const entry = manifest.stages[stage]!;
    const left = new Set(entry.files);
    for (const [out, locked] of Object.entries(entry.lock.outs)) {
      const kind = locked.files === undefined ? 'file' : isGlob(out) ? 'glob' : 'dir';
      const mine = entry.files.filter((f) =>
        kind === 'file'
          ? f.path === out
          : kind === 'dir'
            ? f.path.startsWith(`${out}/`)
            : left.has(f),
      );
      for (const f of mine) left.delete(f);
      const sha = kind === 'file' ? mine[0]?.sha256 : manifestHash(mine, kind === 'dir' ? out : '');
      if ((kind === 'file' && mine.length !== 1) || sha !== locked.sha256) {
        return err(
          `version ${manifest.id}: the files of ${stage}'s out ${out} do not hash to its lock entry`,
        );
      }
      result.push({ stage, out, kind, files: mine });
    }
    const stray = [...left][0];
    if (stray !== undefined)
      return err(`version ${manifest.id}: ${stray.path} is not inside any out of stage ${stage}`);
  }
  return ok(result);
}

export interface PlaceOptions {
  readonly root: string;
  readonly remote: Remote;
  readonly manifest: VersionManifest;
  readonly outs: readonly OutPlacement[];
  /** Files already in the workspace by content: copied instead of downloaded. */
  readonly local: ReadonlyMap<Sha256Hex, string>;
  /** Outs whose on-disk content already equals the version's: left untouched. */
  readonly upToDate: ReadonlySet<string>;
  readonly transfer: Omit<TransferOptions, 'verb'>;
}

export async function placeOutputs(options: PlaceOptions): Promise<Result<Placed, VersionError>> {
  const { root, manifest } = options;
  const tmp = join(root, TMP_DIR, `pull-${randomBytes(4).toString('hex')}`);
  try {
    const todo = options.outs.filter((o) => !options.upToDate.has(o.out));
    // Where each needed sha can be copied from once it is here.
    const source = new Map<Sha256Hex, string>(options.local);
    const sizes = new Map<Sha256Hex, number>();
    for (const o of todo)
      for (const f of o.files) if (!source.has(f.sha256)) sizes.set(f.sha256, f.size);
    const fetched = await runTransfers(
      [...sizes].map(([sha, size]) => ({
        size,
        run: async () => {
          const dest = join(tmp, 'objects', sha);
          const got = await options.remote.getObject(sha, dest);
          if (got.ok) source.set(sha, dest);
          return got;
        },
      })),
      { ...options.transfer, verb: 'downloading' },
    );
    if (!fetched.ok) return fetched;

    let placed = 0;
    for (const o of todo) {
      if (o.kind === 'dir') await mkdir(join(tmp, 'tree', o.out), { recursive: true });
      for (const f of o.files) {
        const staged = join(tmp, 'tree', f.path);
        await mkdir(dirname(staged), { recursive: true });
        const from = source.get(f.sha256)!;
        // A downloaded object is moved (a 1 GB file is not copied); later uses copy the placed file.
        if (from === join(tmp, 'objects', f.sha256)) {
          await rename(from, staged);
          source.set(f.sha256, staged);
        } else await copyFile(from, staged);
        placed++;
      }
    }
    // Checked as late as possible: no symlinked folder on the way to any destination.
    const targets = todo.flatMap((o) => (o.kind === 'glob' ? o.files.map((f) => f.path) : [o.out]));
    for (const rel of targets) {
      const dest = await workspaceDestination(root, rel);
      if (!dest.ok) return err(invalidVersion(`version ${manifest.id}: ${dest.error}`));
    }
    for (const rel of targets)
      await replaceByRename(root, rel, join(tmp, 'tree', rel), join(tmp, 'old'));
    const entries: Record<string, LockEntry> = {};
    for (const o of options.outs) {
      if (o.kind !== 'file') await saveManifest(root, o.kind === 'dir' ? o.out : '', o.files);
      const stage = manifest.stages[o.stage]!;
      entries[o.stage] = {
        ...stage.lock,
        source: { version: manifest.id, pushedBy: manifest.pushedBy },
      };
    }
    return ok({ downloaded: sizes.size, bytes: fetched.value.bytes, placed, entries });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
