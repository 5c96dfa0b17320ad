// Before a pull touches an out: what is on disk now? Three answers per out:
//   equal to the version        -> left alone (nothing to download)
//   equal to pipeline.lock      -> a built output: safe to replace
//   anything else               -> edited by hand (or never recorded): refused unless --force,
//                                  and named down to the file where the manifests allow
// Files already present (anywhere in the selected outs) are reused by content, not downloaded.
import type { BuildState } from '../build/build-state.js';
import type { Sha256Hex } from '../util/sha256.js';
import { observeStage } from '../build/observe-stage.js';
import { staleReasons } from '../build/plan.js';
import type { StageName } from '../graph/stage.js';
import type { OutPlacement } from './placement.js';
import type { VersionManifest } from './manifest.js';

export interface EditedOut {
  readonly stage: string;
  readonly path: string;
  /** The file inside a folder out that differs, when known. */
  readonly file?: string;
}

export interface LocalState {
  readonly edited: readonly EditedOut[];
  readonly local: Map<Sha256Hex, string>;
  readonly upToDate: Set<string>;
}

export async function inspectWorkspace(
  ws: BuildState,
  manifest: VersionManifest,
  outs: readonly OutPlacement[],
): Promise<LocalState> {
  const edited: EditedOut[] = [];
  const local = new Map<Sha256Hex, string>();
  const upToDate = new Set<string>();
  for (const stageName of new Set(outs.map((o) => o.stage))) {
    const observed = await observeStage(
      ws.observe,
      ws.pipeline.stages.get(stageName as StageName)!,
    );
    const entry = ws.lock.stages[stageName];
    const reasons = staleReasons(entry, observed, ws.manifests);
    for (const o of outs.filter((p) => p.stage === stageName)) {
      const now = observed.outs[o.out];
      if (now === undefined || now.kind === 'missing') continue;
      for (const f of now.kind === 'file' ? [now] : now.files)
        local.set(f.sha256, `${ws.root}/${f.path}`);
      if (now.sha256 === manifest.stages[stageName]!.lock.outs[o.out]!.sha256) upToDate.add(o.out);
      else if (entry?.outs[o.out]?.sha256 !== now.sha256) {
        const named = reasons.filter(
          (r) => r.kind === 'out-modified' && r.path === o.out && r.file !== undefined,
        );
        if (named.length === 0) edited.push({ stage: stageName, path: o.out });
        for (const r of named)
          if (r.kind === 'out-modified')
            edited.push({
              stage: stageName,
              path: o.out,
              ...(r.file === undefined ? {} : { file: r.file }),
            });
      }
    }
  }
  await ws.cache.save();
  return { edited, local, upToDate };
}
