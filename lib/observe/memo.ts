// One observation per declared path per process. At 241,605 uploads, `data/raw` is download's out
// AND clean's dep, and `samples` download's dep: without this a no-op build walked, statted and
// looked up the same folders once per stage that names them (~0.7 s per walk).
//
//   download: observe samples, data/raw ──▶ runs? ──▶ forget(data/raw) ──▶ observe data/raw (new)
//   clean:    observe data/raw  (the memo's answer: the one taken after download's rewrite)
//
// WHY this is safe: during a build only the runner writes the workspace, and only by moving a
// stage's outs into place (runner.ts). Right after that move it forgets every memoised path the
// move may have changed: each out, anything inside it, anything containing it, and every glob.
// A stage that reads an out waits for its writer (graph.ts adds the edge), so it can never see an
// observation taken before the rewrite. What the memo does NOT see: someone else editing the
// workspace while a build runs; the next build sees it (nothing is memoised across processes).
import { fileCount, WORKER_WALK_MIN, type HashCache, type PathHash } from './types.js';
import { isStoredFolder, storedFolder } from './hash-folder.js';

export class ObservationMemo {
  /** Promises, not results: two stages running at once (-j 2) share one walk of a common dep. */
  readonly #seen = new Map<string, Promise<PathHash>>();

  /** The memoised observation of `declared`, or `compute()`'s, remembered. */
  get(declared: string, isGlob: boolean, compute: () => Promise<PathHash>): Promise<PathHash> {
    const known = this.#seen.get(declared);
    if (known !== undefined) return known;
    const made = compute();
    this.#seen.set(declared, made);
    made.then(
      (h) => this.#seen.get(declared) === made && this.#done.set(declared, h),
      () => {},
    );
    if (isGlob) this.#globs.add(declared);
    // A failed observation (an I/O error) is not remembered: the next caller tries again.
    made.catch(() => {
      if (this.#seen.get(declared) === made) this.#seen.delete(declared);
    });
    return made;
  }

  /**
   * Remembers `h` as the observation of `declared`, made by the caller without a walk (the runner
   * after applying an incremental run's changes: build/outs-after-changes.ts).
   */
  remember(declared: string, h: PathHash): void {
    const made = Promise.resolve(h);
    this.#seen.set(declared, made);
    this.#done.set(declared, h);
  }

  readonly #globs = new Set<string>();
  /** Resolved observations, so settle() can slim them. */
  readonly #done = new Map<string, PathHash>();

  /**
   * After a stage is recorded, the manifests of its folder deps and outs are in the store
   * (runner.ts): the memo then keeps each big folder's hash without its file list, which is read
   * back from the store if anyone asks (at 241,605 files the list is ~50 MB of the runner's heap
   * while the next stages, DuckDB inside, run).
   */
  settle(workspace: string, cache: HashCache, paths: readonly string[]): void {
    for (const p of paths) {
      const h = this.#done.get(p);
      if (
        h === undefined ||
        h.kind !== 'dir' ||
        isStoredFolder(h) ||
        fileCount(h) < WORKER_WALK_MIN
      )
        continue;
      const known = { sha256: h.sha256, size: h.size, count: fileCount(h) };
      const slim = storedFolder(workspace, p, known, cache);
      this.#done.set(p, slim);
      this.#seen.set(p, Promise.resolve(slim));
    }
  }

  /** Forgets everything a rewrite of the workspace-relative paths `rewritten` may have changed. */
  forget(rewritten: readonly string[]): void {
    for (const declared of [...this.#seen.keys()]) {
      if (this.#globs.has(declared) || rewritten.some((out) => overlaps(declared, out))) {
        this.#seen.delete(declared);
        this.#globs.delete(declared);
        this.#done.delete(declared);
      }
    }
  }
}

/** Whether one path is the other, or inside it ('.' holds everything). */
export function overlaps(a: string, b: string): boolean {
  return a === b || a === '.' || b === '.' || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}
