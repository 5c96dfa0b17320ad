// Every selected stage's stale reasons, judged from the disk as it is now (no stage runs):
// what `pipe status` prints and what `pipe build --dry-run` plans.
import type { BuildState } from './build-state.js';
import { observeStage } from './observe-stage.js';
import { nameSourceFiles } from './source-names.js';
import { staleReasons, withUpstreamReasons, type StaleReason } from './plan.js';
import type { StageName } from '../graph/stage.js';

/**
 * Reasons per stage for `selected` (upstream first; pass a selection closed over ancestors so
 * `upstream-stale` is complete). `forced` stages get a `forced` reason first.
 */
export async function judgeStages(
  ws: BuildState,
  selected: readonly StageName[],
  forced: ReadonlySet<StageName> = new Set(),
): Promise<Map<StageName, StaleReason[]>> {
  const own = new Map<string, StaleReason[]>();
  for (const name of selected) {
    const stage = ws.pipeline.stages.get(name)!;
    const observed = await observeStage(ws.observe, stage);
    const reasons = nameSourceFiles(
      staleReasons(ws.lock.stages[name], observed, ws.manifests),
      observed.sources ?? {},
    );
    own.set(name, forced.has(name) ? [{ kind: 'forced' }, ...reasons] : reasons);
  }
  const inSelection = new Set<string>(selected);
  const all = withUpstreamReasons(
    selected,
    (s) => ws.graph.upstream(s as StageName).filter((u) => inSelection.has(u)),
    own,
  );
  return all as Map<StageName, StaleReason[]>;
}
