// Which stages a push publishes. A version must be whole: a stage goes with every stage it reads
// from, or a pull of it would place outputs built from inputs the version does not hold.
//
// - `pipe push a b`: a, b and their upstream; refused if any of those is stale (named, with why).
// - `pipe push`: every fresh stage whose upstream is all published too; the rest are left out and
//   named (their own reasons, or the upstream stage that keeps them out). Refused only when no
//   stage is left to publish.
import type { Graph } from '../graph/graph.js';
import { selectWithAncestors } from '../graph/graph.js';
import type { StageName } from '../graph/stage.js';
import type { StaleReason } from '../build/plan.js';

export interface StageJudgement {
  readonly stage: StageName;
  /** Empty when the stage is fresh against its lock entry (built, outs as recorded). */
  readonly reasons: readonly StaleReason[];
}

export interface Selection {
  /** Stages to publish, in graph order. */
  readonly publish: readonly StageName[];
  /** Stale stages named on the command line or upstream of one: the push is refused. */
  readonly blocking: readonly StageJudgement[];
  /** Stages a default push leaves out, each with why (an `upstream-stale` reason when inherited). */
  readonly leftOut: readonly StageJudgement[];
}

export function selectStagesToPush(
  graph: Graph,
  judged: ReadonlyMap<StageName, readonly StaleReason[]>,
  named: readonly StageName[],
): Selection {
  const reasonsOf = (s: StageName) => judged.get(s) ?? [];
  if (named.length > 0) {
    const wanted = selectWithAncestors(graph, named);
    const blocking = wanted
      .filter((s) => reasonsOf(s).length > 0)
      .map((stage) => ({ stage, reasons: reasonsOf(stage) }));
    return { publish: blocking.length > 0 ? [] : wanted, blocking, leftOut: [] };
  }
  const publish: StageName[] = [];
  const leftOut: StageJudgement[] = [];
  for (const stage of graph.order) {
    const own = reasonsOf(stage);
    const missingUpstream = graph.upstream(stage).filter((u) => !publish.includes(u));
    if (own.length > 0) leftOut.push({ stage, reasons: own });
    else if (missingUpstream.length > 0)
      leftOut.push({
        stage,
        reasons: missingUpstream.map((u) => ({ kind: 'upstream-stale' as const, stage: u })),
      });
    else publish.push(stage);
  }
  return { publish, blocking: [], leftOut };
}
