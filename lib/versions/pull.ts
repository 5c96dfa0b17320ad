// `pipe pull` and the remote build cache: put a published version's outputs in the workspace.
//
//   manifest (validated, trusted, placement.ts) ─▶ what the workspace lacks ─▶ objects into
//   .pipe/tmp/pull-*/ (each sha256-checked as it streams, capped at its size) ─▶ every out assembled there ─▶ paths checked on disk ─▶
//   old outs moved aside, new ones renamed in, as one unit ─▶ (caller) lock entries written last
//
// Nothing reaches an out's final path before every object has been downloaded and verified, so
// a corrupt or truncated object leaves the workspace exactly as it was. A kill during the final
// renames is rolled back by the next command that takes the build mutex (util/replace-outs.ts); a
// kill after them, before the lock is written, leaves outs not matching the lock: stale, never
// something that looks fresh.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { replaceOuts } from '../util/replace-outs.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { LockEntry } from '../build/lockfile.js';
import { saveManifest } from '../observe/manifest-store.js';
import type { Remote } from '../remote/remote.js';
import { workspaceDestination } from '../remote/remote-path.js';
import { TMP_DIR } from '../build/runner.js';
import { runTransfers, type TransferOptions } from '../remote/transfer-progress.js';
import { err, ok, type Result } from '../util/result.js';
import type { VersionManifest } from './manifest.js';
import type { OutPlacement } from './placement.js';
import { invalidVersion, type VersionError } from './version-error.js';

/** What a pull placed: objects and bytes downloaded, files placed, the lock entries to write. */
export interface Placed {
  readonly downloaded: number;
  readonly bytes: number;
  readonly placed: number;
  readonly entries: Record<string, LockEntry>;
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
          // The manifest's size caps the stream: an endless object stops at size + 1 bytes.
          const got = await options.remote.getObject(sha, dest, size);
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
    const staged = relative(root, join(tmp, 'tree'));
    await replaceOuts(
      root,
      tmp,
      targets.map((rel) => ({ rel, staged: join(staged, rel) })),
    );
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
