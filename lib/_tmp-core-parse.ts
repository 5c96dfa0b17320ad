// TEMPORARY stand-ins for graph.ts / params-file.ts / workspace.ts, which the core-parse branch
// is writing with the same API. Deleted as soon as that branch is merged.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Pipeline, StageName } from './pipeline.js';
import { isGlob } from './hash.js';

export interface Graph {
  readonly pipeline: Pipeline;
  upstream(stage: StageName): readonly StageName[];
  downstream(stage: StageName): readonly StageName[];
  readonly order: readonly StageName[];
}

function contains(outer: string, inner: string): boolean {
  return outer === inner || inner.startsWith(outer + '/');
}

export function buildGraph(pipeline: Pipeline): Graph {
  const up = new Map<StageName, StageName[]>();
  const down = new Map<StageName, StageName[]>();
  for (const s of pipeline.stages.values()) { up.set(s.name, []); down.set(s.name, []); }
  for (const to of pipeline.stages.values()) {
    for (const from of pipeline.stages.values()) {
      if (from === to) continue;
      const hit = to.deps.some((d) => from.outs.some((o) => {
        const dep = isGlob(d.value) ? d.value.split('/').filter((x) => !isGlob(x)).join('/') : d.value;
        return contains(o.value, dep) || contains(dep, o.value);
      }));
      if (hit) { up.get(to.name)!.push(from.name); down.get(from.name)!.push(to.name); }
    }
  }
  const order: StageName[] = [];
  const done = new Set<StageName>();
  while (order.length < pipeline.stages.size) {
    for (const s of pipeline.stages.keys()) {
      if (!done.has(s) && up.get(s)!.every((u) => done.has(u))) { order.push(s); done.add(s); }
    }
  }
  return { pipeline, upstream: (s) => up.get(s) ?? [], downstream: (s) => down.get(s) ?? [], order };
}

export function selectWithAncestors(graph: Graph, targets: readonly StageName[]): StageName[] {
  const keep = new Set<StageName>();
  const visit = (s: StageName): void => { if (keep.has(s)) return; keep.add(s); graph.upstream(s).forEach(visit); };
  targets.forEach(visit);
  return graph.order.filter((s) => keep.has(s));
}

export type Params = Record<string, unknown>;
export function loadParams(root: string): { ok: true; value: Params } | { ok: false; errors: unknown[] } {
  const p = join(root, 'params.yaml');
  if (!existsSync(p)) return { ok: true, value: {} };
  return { ok: true, value: (parse(readFileSync(p, 'utf8')) ?? {}) as Params };
}
export function paramValue(params: Params, key: string): unknown {
  let v: unknown = params;
  for (const part of key.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function findWorkspace(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'pipeline.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
