// Why is a stage stale? Pure: the lock entry (what the stage was built from and produced) against
// what is on disk now (hashed by observe.ts), giving every reason as a tagged value. Printers
// (report.ts) switch over the reasons exhaustively, so none goes unprinted.
//
// Reasons come cheapest first: the script and params are tiny; dep and out hashes may cover
// thousands of files (they come from the state cache, but listing them still costs stats).
import type { Fingerprint } from './fingerprint.js';
import type { FileHash, PathHash } from '../observe/types.js';
import type { FileChange } from '../observe/manifest-diff.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { LockEntry, LockedPath } from './lockfile.js';
import type { SourceSeen } from './source-deps.js';

export type StaleReason =
  | { readonly kind: 'never-built' }
  /** `--force` or `--force-stage`. */
  | { readonly kind: 'forced' }
  /** The declared deps/outs list or the fingerprint format changed, with no content reason. */
  | { readonly kind: 'definition-changed' }
  /** A file of the stage's code (script, SQL beside it, import closure) changed, came or went. */
  | { readonly kind: 'code-changed'; readonly path: string }
  /** `from`/`to` are absent when the package was not imported (or not installed) then/now. */
  | {
      readonly kind: 'package-changed';
      readonly name: string;
      readonly from?: string;
      readonly to?: string;
    }
  /** `from`/`to` are absent when the key was not set (declared newly, or removed from params.yaml). */
  | {
      readonly kind: 'param-changed';
      readonly key: string;
      readonly from?: unknown;
      readonly to?: unknown;
    }
  | { readonly kind: 'env-changed'; readonly name: string }
  /** `path` is the declared dep; `file` the file inside a folder/glob dep, when known. */
  | {
      readonly kind: 'dep-added' | 'dep-modified' | 'dep-deleted';
      readonly path: string;
      readonly file?: string;
    }
  /**
   * An upload-source dep (`path` as declared) could not be looked at: `url` what it resolved to,
   * `why` the cause. Never fresh: what it holds now is unknown.
   */
  | {
      readonly kind: 'source-unreachable';
      readonly path: string;
      readonly url: string;
      readonly why: string;
    }
  | { readonly kind: 'out-missing'; readonly path: string }
  | { readonly kind: 'out-modified'; readonly path: string; readonly file?: string }
  | { readonly kind: 'upstream-stale'; readonly stage: string };

/** A stage's inputs and outputs as they are on disk now. */
export interface Observed {
  readonly fingerprint: Fingerprint;
  /** The stage's code by path (build/code-deps.ts). */
  readonly cmd: Readonly<Record<string, Sha256Hex>>;
  /** Installed version of each package the code imports (null: not installed). */
  readonly packages: Readonly<Record<string, string | null>>;
  readonly deps: Readonly<Record<string, PathHash>>;
  readonly params: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, Sha256Hex | null>>;
  readonly outs: Readonly<Record<string, PathHash>>;
  /** What was seen of each upload-source dep (source-deps.ts), by its declared form. */
  readonly sources?: Readonly<Record<string, SourceSeen>>;
}

/**
 * Looks up the stored per-file list of a folder/glob manifest (see manifest-store.ts); `diff`,
 * when given, compares two stored manifests without making the lists (manifest-diff.ts).
 */
export type ManifestLookup = ((sha: Sha256Hex, base: string) => readonly FileHash[] | undefined) & {
  readonly diff?: (from: Sha256Hex, to: Sha256Hex, base: string) => FileChange[] | undefined;
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Every reason `observed` differs from `entry`; empty means fresh. */
export function staleReasons(
  entry: LockEntry | undefined,
  now: Observed,
  manifests: ManifestLookup,
): StaleReason[] {
  // A source that could not be looked at is said first, whatever else holds: it blocks the stage.
  const unreachable: StaleReason[] = [];
  for (const [path, seen] of Object.entries(now.sources ?? {})) {
    if (seen.state === 'unreachable')
      unreachable.push({ kind: 'source-unreachable', path, url: seen.url, why: seen.why });
  }
  if (entry === undefined) return [...unreachable, { kind: 'never-built' }];
  const reasons: StaleReason[] = [...unreachable];
  for (const path of unionKeys(entry.cmd, now.cmd)) {
    if (entry.cmd[path] !== now.cmd[path]) reasons.push({ kind: 'code-changed', path });
  }
  // A lock entry written before packages were recorded says nothing about them: its changed
  // fingerprint (format) already makes the stage stale, without a line per package.
  const was = entry.packages;
  for (const name of was === undefined ? [] : unionKeys(was, now.packages)) {
    const from = was![name] ?? undefined;
    const to = now.packages[name] ?? undefined;
    if (from !== to) reasons.push({ kind: 'package-changed', name, ...defined({ from, to }) });
  }
  for (const key of unionKeys(entry.params, now.params)) {
    const from = entry.params[key];
    const to = now.params[key];
    if (!same(from, to)) reasons.push({ kind: 'param-changed', key, ...defined({ from, to }) });
  }
  for (const name of unionKeys(entry.env, now.env)) {
    if (entry.env[name] !== now.env[name]) reasons.push({ kind: 'env-changed', name });
  }
  for (const path of unionKeys(entry.deps, now.deps)) {
    if (now.sources?.[path]?.state === 'unreachable') continue;
    // A loop, not push(...): a folder dep can list hundreds of thousands of changed files, more
    // arguments than a call can take.
    for (const r of depReasons(path, entry.deps[path], now.deps[path], manifests)) reasons.push(r);
  }
  if (reasons.length === 0 && entry.fingerprint !== now.fingerprint)
    reasons.push({ kind: 'definition-changed' });
  for (const path of unionKeys(entry.outs, now.outs)) {
    const was = entry.outs[path];
    const is = now.outs[path];
    if (is === undefined || is.kind === 'missing') reasons.push({ kind: 'out-missing', path });
    else if (was === undefined) reasons.push({ kind: 'definition-changed' });
    else if (was.sha256 !== is.sha256) {
      const files = changedFiles(was, is, manifests);
      if (files.length === 0) reasons.push({ kind: 'out-modified', path });
      for (const f of files) reasons.push({ kind: 'out-modified', path, file: f.file });
    }
  }
  return dedupe(reasons);
}

function depReasons(
  path: string,
  was: LockedPath | undefined,
  is: PathHash | undefined,
  manifests: ManifestLookup,
): StaleReason[] {
  if (was === undefined) return [{ kind: 'dep-added', path }];
  if (is === undefined || is.kind === 'missing') return [{ kind: 'dep-deleted', path }];
  if (was.sha256 === is.sha256) return [];
  const files = changedFiles(was, is, manifests);
  if (files.length === 0) return [{ kind: 'dep-modified', path }];
  return files.map((f) => ({ kind: `dep-${f.change}` as const, path, file: f.file }));
}

/** File-level differences of a folder/glob against its stored manifest; [] when unknown. */
function changedFiles(
  was: LockedPath,
  is: Exclude<PathHash, { kind: 'missing' }>,
  manifests: ManifestLookup,
): FileChange[] {
  if (is.kind === 'file' || was.files === undefined) return [];
  const stored = manifests.diff?.(was.sha256, is.sha256, is.kind === 'glob' ? '' : is.path);
  if (stored !== undefined) return [...stored].sort((a, b) => (a.file < b.file ? -1 : 1));
  const old = manifests(was.sha256, is.kind === 'glob' ? '' : is.path);
  if (old === undefined) return [];
  // Both lists are sorted by path (listings and manifests are): one merge pass, no map of
  // 100,000 entries.
  const changes: FileChange[] = [];
  const olds = sortedByPath(old);
  const news = sortedByPath(is.files);
  let i = 0;
  let j = 0;
  while (i < olds.length || j < news.length) {
    const a = olds[i];
    const b = news[j];
    if (b === undefined || (a !== undefined && a.path < b.path)) {
      changes.push({ change: 'deleted', file: a!.path });
      i++;
    } else if (a === undefined || b.path < a.path) {
      changes.push({ change: 'added', file: b.path });
      j++;
    } else {
      if (a.sha256 !== b.sha256) changes.push({ change: 'modified', file: b.path });
      i++;
      j++;
    }
  }
  return changes.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/**
 * Adds `upstream-stale` to every stage below a stale one, in graph order (upstream first).
 *
 *   clean (dep modified) ──▶ keypairs (upstream-stale: clean) ──▶ features (upstream-stale: keypairs)
 *
 * "Upstream stale" means "will be reconsidered": with early cutoff it may stay fresh after its
 * upstream re-runs, if the upstream's outs come out byte-identical.
 */
export function withUpstreamReasons(
  order: readonly string[],
  upstream: (stage: string) => readonly string[],
  own: ReadonlyMap<string, readonly StaleReason[]>,
): Map<string, StaleReason[]> {
  const all = new Map<string, StaleReason[]>();
  for (const stage of order) {
    const reasons = [...(own.get(stage) ?? [])];
    for (const up of upstream(stage)) {
      if ((all.get(up) ?? []).length > 0) reasons.push({ kind: 'upstream-stale', stage: up });
    }
    all.set(stage, reasons);
  }
  return all;
}

function sortedByPath(files: readonly FileHash[]): readonly FileHash[] {
  for (let k = 1; k < files.length; k++) {
    if (files[k - 1]!.path > files[k]!.path)
      return [...files].sort((x, y) => (x.path < y.path ? -1 : 1));
  }
  return files;
}

function unionKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function dedupe(reasons: StaleReason[]): StaleReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => {
    const key = JSON.stringify(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
