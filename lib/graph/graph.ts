// Stages -> DAG. Pure: no fs, clock or env (lib/graph/README.md).
//
// An edge runs from the stage that writes an out to every stage with a dep on it:
//
//   download ── data/raw ──▶ clean ── data/clean ──▶ keypairs ──▶ features ──▶ report
//                               ╲                                               ▲
//                                ╰──────────── data/clean/counts.json ──────────╯
//
// An out feeds a dep when the two paths are equal or one folder holds the other (`data/clean`
// feeds a dep `data/clean/counts.json`; an out `data/raw/2024` feeds a dep folder `data/raw`).
// A glob dep is matched by its fixed leading folder, the part before the first wildcard
// (`data/raw/**/*.json` -> `data/raw`): deliberately generous, because an extra edge only orders
// two stages, while a missing one would let a stage read an input before it is written.
import { globBase, isGlob, pathContains } from '../util/paths.js';
import { isSourceDep, type Located, type Pipeline, type StageName } from './stage.js';

/** `from` writes `out`; `to` reads it through its dep `dep`. */
export interface Edge {
  readonly from: StageName;
  readonly to: StageName;
  readonly out: Located<string>;
  readonly dep: Located<string>;
}

/** What the graph needs of a stage, so validation can use it before a Pipeline exists. */
export interface StageShape {
  readonly name: StageName;
  readonly deps: readonly Located<string>[];
  readonly outs: readonly Located<string>[];
}

export interface Graph {
  readonly pipeline: Pipeline;
  readonly edges: readonly Edge[];
  /** The stages `stage` reads from, in declaration order. */
  upstream(stage: StageName): readonly StageName[];
  /** The stages that read from `stage`, in declaration order. */
  downstream(stage: StageName): readonly StageName[];
  /** Every stage, each after all its upstream stages; ties keep declaration order. */
  readonly order: readonly StageName[];
}

function feeds(out: string, dep: string): boolean {
  const depPath = isGlob(dep) ? globBase(dep) : dep;
  return pathContains(out, depPath) || pathContains(depPath, out);
}

/** Every edge, in declaration order of the reading stage, then its deps, then writers. */
export function stageEdges(stages: readonly StageShape[]): Edge[] {
  const edges: Edge[] = [];
  for (const reader of stages) {
    // An upload source (file://, gs://, ${NAME}) is outside what any stage writes: never an edge.
    for (const dep of reader.deps.filter((d) => !isSourceDep(d.value))) {
      for (const writer of stages) {
        for (const out of writer.outs) {
          if (feeds(out.value, dep.value))
            edges.push({ from: writer.name, to: reader.name, out, dep });
        }
      }
    }
  }
  return edges;
}

/**
 * One cycle per strongly connected group of stages, as its edges in order, starting at the
 * group's first-declared stage: [a->b, b->c, c->a]. A stage reading its own out is a cycle of one.
 */
export function findCycles(names: readonly StageName[], edges: readonly Edge[]): Edge[][] {
  const index = new Map(names.map((n, i) => [n, i]));
  const out = adjacency(names, edges);
  const cycles: Edge[][] = [];
  const done = new Set<StageName>();
  for (const start of names) {
    if (done.has(start)) continue;
    const path = cycleThrough(start, out);
    if (path === undefined) continue;
    // Mark the whole group so it is reported once, at its first-declared stage.
    for (const e of path) done.add(e.from);
    for (const n of reachableInCycleGroup(start, out, path)) done.add(n);
    cycles.push(path);
  }
  return cycles.sort((a, b) => (index.get(a[0]!.from) ?? 0) - (index.get(b[0]!.from) ?? 0));
}

function adjacency(names: readonly StageName[], edges: readonly Edge[]): Map<StageName, Edge[]> {
  const out = new Map<StageName, Edge[]>(names.map((n) => [n, []]));
  for (const e of edges) {
    const list = out.get(e.from) ?? [];
    // One edge per stage pair is enough to name a cycle; keep the first-declared.
    if (!list.some((x) => x.to === e.to)) list.push(e);
    out.set(e.from, list);
  }
  return out;
}

/** The shortest cycle from `start` back to itself (breadth-first), or undefined. */
function cycleThrough(start: StageName, out: Map<StageName, Edge[]>): Edge[] | undefined {
  const via = new Map<StageName, Edge>();
  const queue: StageName[] = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const e of out.get(queue[i]!) ?? []) {
      if (e.to === start) {
        const path = [e];
        for (let at = e.from; at !== start; ) {
          const step = via.get(at)!;
          path.unshift(step);
          at = step.from;
        }
        return path;
      }
      if (!via.has(e.to)) {
        via.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  return undefined;
}

/** Stages that both `start` reaches and that reach `start`: its strongly connected group. */
function reachableInCycleGroup(
  start: StageName,
  out: Map<StageName, Edge[]>,
  path: readonly Edge[],
): StageName[] {
  const forward = reach(start, out);
  const group: StageName[] = path.map((e) => e.from);
  for (const n of forward) if (reach(n, out).has(start)) group.push(n);
  return group;
}

function reach(start: StageName, out: Map<StageName, Edge[]>): Set<StageName> {
  const seen = new Set<StageName>();
  const stack = [start];
  while (stack.length > 0) {
    for (const e of out.get(stack.pop()!) ?? []) {
      if (!seen.has(e.to)) {
        seen.add(e.to);
        stack.push(e.to);
      }
    }
  }
  return seen;
}

/** Kahn's algorithm, always taking the first-declared ready stage, so the order is stable. */
export function topologicalOrder(
  names: readonly StageName[],
  edges: readonly Edge[],
): StageName[] | undefined {
  const waitingOn = new Map<StageName, Set<StageName>>(names.map((n) => [n, new Set()]));
  for (const e of edges) if (e.from !== e.to) waitingOn.get(e.to)?.add(e.from);
  if (edges.some((e) => e.from === e.to)) return undefined;
  const order: StageName[] = [];
  const placed = new Set<StageName>();
  while (order.length < names.length) {
    const next = names.find(
      (n) => !placed.has(n) && [...waitingOn.get(n)!].every((u) => placed.has(u)),
    );
    if (next === undefined) return undefined; // a cycle
    order.push(next);
    placed.add(next);
  }
  return order;
}

/** The DAG of a validated pipeline. Throws on a cycle: validation reports those first. */
export function buildGraph(pipeline: Pipeline): Graph {
  const names = [...pipeline.stages.keys()];
  const edges = stageEdges([...pipeline.stages.values()]);
  const order = topologicalOrder(names, edges);
  if (order === undefined) throw new Error('bug: buildGraph called on a pipeline with a cycle');
  const up = new Map<StageName, StageName[]>(names.map((n) => [n, []]));
  const down = new Map<StageName, StageName[]>(names.map((n) => [n, []]));
  const declared = (a: StageName, b: StageName) => names.indexOf(a) - names.indexOf(b);
  for (const e of edges) {
    if (!up.get(e.to)!.includes(e.from)) up.get(e.to)!.push(e.from);
    if (!down.get(e.from)!.includes(e.to)) down.get(e.from)!.push(e.to);
  }
  for (const list of [...up.values(), ...down.values()]) list.sort(declared);
  return {
    pipeline,
    edges,
    order,
    upstream: (stage) => up.get(stage) ?? unknownStage(stage),
    downstream: (stage) => down.get(stage) ?? unknownStage(stage),
  };
}

/** The targets and every stage they transitively read from, in topological order. */
export function selectWithAncestors(graph: Graph, targets: readonly StageName[]): StageName[] {
  const chosen = new Set<StageName>();
  const stack = [...targets];
  while (stack.length > 0) {
    const stage = stack.pop()!;
    if (chosen.has(stage)) continue;
    chosen.add(stage);
    stack.push(...graph.upstream(stage));
  }
  return graph.order.filter((n) => chosen.has(n));
}

/** The stages and every stage that transitively reads from them, in topological order. */
export function withDescendants(graph: Graph, stages: readonly StageName[]): StageName[] {
  const chosen = new Set<StageName>();
  const stack = [...stages];
  while (stack.length > 0) {
    const stage = stack.pop()!;
    if (chosen.has(stage)) continue;
    chosen.add(stage);
    stack.push(...graph.downstream(stage));
  }
  return graph.order.filter((n) => chosen.has(n));
}

function unknownStage(stage: StageName): never {
  throw new Error(`bug: no stage named ${stage} in the graph`);
}
