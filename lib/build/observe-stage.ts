// The I/O half of freshness: hashes a stage's code (code-deps.ts), deps and outs (through the
// state cache), reads its params and env inputs, and computes its fingerprint. plan.ts then compares the
// result with the lock entry without touching the disk.
import { readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { computeFingerprint, envValueHash } from './fingerprint.js';
import { hashPath } from '../observe/hash-path.js';
import { isGlob } from '../util/paths.js';
import { currentClosure, packageVersions } from './code-deps.js';
import { cmdScript, isSourceDep } from '../graph/stage.js';
import type { ConfigValue } from '../pipeline/config.js';
import type { LockedPath } from './lockfile.js';
import { observeSource, type SourceSeen } from './source-deps.js';
import type { HashCache, HashStats, PathHash } from '../observe/types.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { ObservationMemo } from '../observe/memo.js';
import type { Observed } from './plan.js';
import type { Stage } from '../graph/stage.js';
import { emptyRecord, recordFrom } from '../util/records.js';

export interface ObserveContext {
  readonly workspace: string;
  /** A declared param's value (undefined when params.yaml does not set it). */
  readonly param: (key: string) => unknown;
  /** A declared env input's value, resolved through config layers (undefined when unset). */
  readonly env: (name: string) => string | undefined;
  readonly cache: HashCache;
  readonly stats: HashStats;
  /** One observation per path per process; the runner makes it forget what a stage rewrites. */
  readonly memo: ObservationMemo;
  /** A configuration value with its layer, for a `${NAME}` source dep (pipeline/source-dep.ts). */
  readonly config: (name: string) => ConfigValue | undefined;
  /** --offline: buckets are not listed; they stand as the lock file recorded them. */
  readonly offline: boolean;
  /** What the lock file recorded for a stage's dep (an unlisted bucket's stand-in). */
  readonly locked: (stage: string, dep: string) => LockedPath | undefined;
}

/**
 * The script and the SQL beside it that it may run (docs/stage-contract.md): `stages/clean.ts`
 * -> itself, `stages/clean.sql`, `stages/clean.*.sql`. Sorted, workspace-relative.
 */
export function cmdFiles(workspace: string, cmd: string): string[] {
  const dir = posix.dirname(cmd);
  const base = posix.basename(cmd);
  const stem = base.replace(/\.[^.]+$/, '');
  let names: string[];
  try {
    names = readdirSync(join(workspace, dir));
  } catch {
    return [cmd];
  }
  const sql = names.filter(
    (n) => n === `${stem}.sql` || (n.startsWith(`${stem}.`) && n.endsWith('.sql')),
  );
  return [cmd, ...sql.map((n) => posix.join(dir, n))].sort();
}

/**
 * All of `paths` at once, keyed in the order given (fingerprints list them in that order): big
 * folders then walk on worker threads side by side (a no-op's uploads folder and data/raw).
 */
async function hashAll(
  ctx: ObserveContext,
  paths: readonly string[],
): Promise<Record<string, PathHash>> {
  const hashes = await Promise.all(
    paths.map((p) =>
      ctx.memo.get(p, isGlob(p), () => hashPath(ctx.workspace, p, ctx.cache, ctx.stats)),
    ),
  );
  const out = emptyRecord<PathHash>();
  for (const [i, p] of paths.entries()) out[p] = hashes[i]!;
  return out;
}

/**
 * The code a stage runs, path -> sha256, and the packages it imports, name -> version. For a
 * node script: the script, the SQL beside it (cmdFiles: clean.ts picks its SQL by a computed
 * name) and its import closure. For a command line: nothing beyond its declared deps.
 */
async function observeCode(
  ctx: ObserveContext,
  cmd: string,
): Promise<{ code: Record<string, Sha256Hex>; packages: Record<string, string | null> }> {
  const script = cmdScript(cmd);
  if (script === undefined) return { code: {}, packages: {} };
  const hashFile = (p: string) =>
    ctx.memo.get(p, false, () => hashPath(ctx.workspace, p, ctx.cache, ctx.stats));
  const closure = await currentClosure(ctx.workspace, script, hashFile);
  const paths = [...new Set([...cmdFiles(ctx.workspace, script), ...Object.keys(closure.files)])];
  const hashes = await hashAll(ctx, paths.sort());
  const code = emptyRecord<Sha256Hex>();
  for (const [p, h] of Object.entries(hashes)) {
    if (h.kind === 'file') code[p] = h.sha256;
  }
  return { code, packages: packageVersions(ctx.workspace, closure) };
}

/** Hashes and reads everything the stage's fingerprint and freshness depend on. */
export async function observeStage(ctx: ObserveContext, stage: Stage): Promise<Observed> {
  const declared = stage.deps.map((d) => d.value);
  const [{ code: cmd, packages }, paths, sources, outs] = await Promise.all([
    observeCode(ctx, stage.cmd.value),
    hashAll(
      ctx,
      declared.filter((d) => !isSourceDep(d)),
    ),
    observeSources(
      ctx,
      declared.filter((d) => isSourceDep(d)),
    ),
    hashAll(
      ctx,
      stage.outs.map((o) => o.value),
    ),
  ]);
  // Deps keep their declared order (the fingerprint lists them so); a source dep stands as what
  // was seen of it: its manifest, nothing when it could not be looked at, or (offline) the lock's.
  const deps = emptyRecord<PathHash>();
  for (const d of declared) {
    const seen = sources[d];
    if (seen === undefined) deps[d] = paths[d]!;
    else if (seen.state === 'observed') deps[d] = seen.hash;
    else if (seen.state === 'not-checked') {
      const was = ctx.locked(stage.name, d);
      deps[d] =
        was === undefined
          ? { kind: 'missing', path: seen.url }
          : { kind: 'dir', path: seen.url, sha256: was.sha256, size: was.size, files: [] };
    } else deps[d] = { kind: 'missing', path: seen.url };
  }
  const params = emptyRecord<unknown>();
  for (const p of stage.params) params[p.value] = ctx.param(p.value);
  const env = emptyRecord<Sha256Hex | null>();
  for (const e of stage.env) env[e.value] = envValueHash(ctx.env(e.value));
  const depHashes = emptyRecord<Sha256Hex | null>();
  for (const [p, h] of Object.entries(deps)) depHashes[p] = h.kind === 'missing' ? null : h.sha256;
  const fingerprint = computeFingerprint({
    definition: { cmd: stage.cmd.value, deps: Object.keys(deps), outs: Object.keys(outs) },
    codeHashes: cmd,
    packages,
    depHashes,
    params,
    envHashes: env,
  });
  return { fingerprint, cmd, packages, deps, params, env, outs, sources };
}

async function observeSources(
  ctx: ObserveContext,
  declared: readonly string[],
): Promise<Record<string, SourceSeen>> {
  const seen = await Promise.all(declared.map((d) => observeSource(ctx, d)));
  return recordFrom(declared.map((d, i) => [d, seen[i]!] as const));
}

/** Re-hashes only the outs (after a stage moved them into place and the memo forgot them). */
export async function observeOuts(
  ctx: ObserveContext,
  stage: Stage,
): Promise<Record<string, PathHash>> {
  return hashAll(
    ctx,
    stage.outs.map((o) => o.value),
  );
}
