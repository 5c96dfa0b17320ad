// What `status` and `build` both need before they can judge freshness: the workspace found from
// the cwd (or -C), pipeline.yaml validated, params, the graph, the lock file, the state cache and
// the config layers. Problems are printed here, once, and come back as the exit code to use.
import { formatDiagnostics } from './diagnostics.js';
import { Config } from './config.js';
import { ExitCode } from './exit-codes.js';
import { newHashStats, type HashStats } from './hash.js';
import { readLock, type LockFile } from './lockfile.js';
import { loadManifest } from './manifest-store.js';
import type { ObserveContext } from './observe.js';
import { loadPipeline } from './pipeline-file.js';
import type { ManifestLookup } from './plan.js';
import type { Pipeline, StageName } from './pipeline.js';
import { StateCache } from './state-cache.js';
import { buildGraph, findWorkspace, loadParams, paramValue, type Graph } from './_tmp-core-parse.js';

export interface OpenWorkspace {
  readonly root: string;
  readonly pipeline: Pipeline;
  readonly graph: Graph;
  readonly lock: LockFile;
  readonly cache: StateCache;
  readonly config: Config;
  readonly stats: HashStats;
  readonly observe: ObserveContext;
  readonly manifests: ManifestLookup;
}

export type OpenResult = { ok: true; value: OpenWorkspace } | { ok: false; code: ExitCode };

export async function openWorkspace(cwd: string | undefined, stderr: NodeJS.WritableStream): Promise<OpenResult> {
  const root = findWorkspace(cwd ?? process.cwd());
  if (root === undefined) {
    stderr.write(`pipe: no pipeline.yaml in ${cwd ?? process.cwd()} or any folder above it; run pipe inside a workspace or pass -C <folder>\n`);
    return { ok: false, code: ExitCode.invalidPipeline };
  }
  const loaded = await loadPipeline(root);
  if (!loaded.ok) {
    stderr.write(formatDiagnostics(loaded.errors));
    return { ok: false, code: ExitCode.invalidPipeline };
  }
  if (loaded.warnings.length > 0) stderr.write(formatDiagnostics(loaded.warnings));
  const params = loadParams(root);
  if (!params.ok) {
    stderr.write(`pipe: params.yaml is invalid\n`);
    return { ok: false, code: ExitCode.invalidPipeline };
  }
  const lock = readLock(root);
  if (!lock.ok) {
    stderr.write(`pipe: ${lock.message}\n`);
    return { ok: false, code: ExitCode.invalidPipeline };
  }
  const pipeline = loaded.value;
  const cache = StateCache.load(root);
  const config = new Config(root);
  const stats = newHashStats();
  const observe: ObserveContext = {
    workspace: root,
    param: (key) => paramValue(params.value, key),
    env: (name) => config.get(name)?.value,
    cache,
    stats,
  };
  const manifests: ManifestLookup = (sha, base) => loadManifest(root, sha, base);
  return { ok: true, value: { root, pipeline, graph: buildGraph(pipeline), lock: lock.value, cache, config, stats, observe, manifests } };
}

/** Checks stage names given on the command line; prints the problem and returns false if any is unknown. */
export function checkStageNames(pipeline: Pipeline, names: readonly string[], stderr: NodeJS.WritableStream): names is StageName[] {
  const unknown = names.filter((n) => !pipeline.stages.has(n as StageName));
  if (unknown.length === 0) return true;
  const known = [...pipeline.stages.keys()].join(', ');
  stderr.write(`pipe: no stage named ${unknown.map((n) => JSON.stringify(n)).join(', ')} in pipeline.yaml (stages: ${known})\n`);
  return false;
}
