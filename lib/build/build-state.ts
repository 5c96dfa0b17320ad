// What `status` and `build` both need before they can judge freshness: the workspace found from
// the cwd (or -C) with pipeline.yaml validated (workspace.ts), params, the graph, the lock file,
// the state cache and the config layers. Problems are printed here, once, and come back as the
// exit code to use.
import { formatDiagnostics } from '../pipeline/diagnostics.js';
import { Config } from '../pipeline/config.js';
import { ExitCode } from '../util/exit-codes.js';
import { newHashStats, type HashStats } from '../observe/types.js';
import { readLock, type LockFile } from './lockfile.js';
import { loadManifest } from '../observe/manifest-store.js';
import { storedManifestDiff } from '../observe/manifest-diff.js';
import type { Sha256Hex } from '../util/sha256.js';
import type { ObserveContext } from './observe-stage.js';
import { ObservationMemo } from '../observe/memo.js';
import type { ManifestLookup } from './plan.js';
import type { Pipeline, StageName } from '../graph/stage.js';
import { StateCache } from '../observe/state-cache.js';
import { buildGraph, type Graph } from '../graph/graph.js';
import { loadParams, paramValue } from '../pipeline/params-file.js';
import { openWorkspace } from '../pipeline/workspace.js';

export interface BuildState {
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

export type OpenResult = { ok: true; value: BuildState } | { ok: false; code: ExitCode };

/** Loads everything freshness needs for the workspace around `start` (a folder). */
export async function loadBuildState(
  start: string,
  stderr: NodeJS.WritableStream,
  options: { readonly offline?: boolean } = {},
): Promise<OpenResult> {
  const loaded = await openWorkspace(start, stderr);
  if (!loaded.ok) return { ok: false, code: loaded.error };
  const pipeline = loaded.value;
  const root = pipeline.root;
  const params = await loadParams(root);
  if (!params.ok) {
    stderr.write(formatDiagnostics(params.error));
    return { ok: false, code: ExitCode.invalidPipeline };
  }
  const lock = readLock(root);
  if (!lock.ok) {
    stderr.write(`pipe: ${lock.message}\n`);
    return { ok: false, code: ExitCode.invalidPipeline };
  }
  const cache = StateCache.load(root);
  const config = new Config(root);
  const stats = newHashStats();
  const observe: ObserveContext = {
    workspace: root,
    param: (key) => paramValue(params.value, key),
    env: (name) => config.get(name)?.value,
    cache,
    stats,
    memo: new ObservationMemo(),
    config: (name) => config.get(name),
    offline: options.offline ?? false,
    locked: (stage, dep) => lock.value.stages[stage]?.deps[dep],
  };
  const manifests: ManifestLookup = Object.assign(
    (sha: Sha256Hex, base: string) => loadManifest(root, sha, base),
    {
      diff: (from: Sha256Hex, to: Sha256Hex, base: string) =>
        storedManifestDiff(root, from, to, base),
    },
  );
  return {
    ok: true,
    value: {
      root,
      pipeline,
      graph: buildGraph(pipeline),
      lock: lock.value,
      cache,
      config,
      stats,
      observe,
      manifests,
    },
  };
}

/** Checks stage names given on the command line; prints the problem and returns false if any is unknown. */
export function checkStageNames(
  pipeline: Pipeline,
  names: readonly string[],
  stderr: NodeJS.WritableStream,
): names is StageName[] {
  const unknown = names.filter((n) => !pipeline.stages.has(n as StageName));
  if (unknown.length === 0) return true;
  const known = [...pipeline.stages.keys()].join(', ');
  stderr.write(
    `pipe: no stage named ${unknown.map((n) => JSON.stringify(n)).join(', ')} in pipeline.yaml (stages: ${known})\n`,
  );
  return false;
}
