// The graph as text for people (a tree), for Mermaid and for Graphviz. Pure.
//
// The tree hangs each stage under the stages that read from it, roots first. A stage reached a
// second time (a diamond) is named with "(shown above)" instead of repeating its subtree:
//
//   a              a writes what b and c read; d reads from both
//   ├── b
//   │   └── d
//   └── c
//       └── d (shown above)
import type { Graph } from './graph.js';
import type { StageName } from './stage.js';

export function renderTree(graph: Graph, selection: readonly StageName[]): string {
  const chosen = new Set(selection);
  const below = (s: StageName) => graph.downstream(s).filter((d) => chosen.has(d));
  const roots = selection.filter((s) => !graph.upstream(s).some((u) => chosen.has(u)));
  const shown = new Set<StageName>();
  const lines: string[] = [];
  const visit = (stage: StageName, prefix: string, branch: string, childPrefix: string) => {
    const desc = graph.pipeline.stages.get(stage)?.desc;
    if (shown.has(stage)) {
      lines.push(`${prefix}${branch}${stage} (shown above)`);
      return;
    }
    shown.add(stage);
    lines.push(`${prefix}${branch}${stage}${desc === undefined ? '' : `  # ${desc}`}`);
    const children = below(stage);
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      visit(child, prefix + childPrefix, last ? '└── ' : '├── ', last ? '    ' : '│   ');
    });
  };
  for (const root of roots) visit(root, '', '', '');
  return lines.map((l) => `${l}\n`).join('');
}

/** Mermaid flowchart. Ids are s0, s1, ... because a stage may be named like a keyword (`end`). */
export function renderMermaid(graph: Graph, selection: readonly StageName[]): string {
  const id = new Map(selection.map((s, i) => [s, `s${i}`]));
  const lines = ['flowchart TD', ...selection.map((s) => `  ${id.get(s)}["${s}"]`)];
  for (const [from, to] of edgePairs(graph, selection))
    lines.push(`  ${id.get(from)} --> ${id.get(to)}`);
  return `${lines.join('\n')}\n`;
}

/** Graphviz dot. Stage names are [A-Za-z0-9_-], so quoting them is enough. */
export function renderDot(graph: Graph, selection: readonly StageName[]): string {
  const lines = [
    'digraph pipeline {',
    '  rankdir=TB;',
    '  node [shape=box];',
    ...selection.map((s) => `  "${s}";`),
  ];
  for (const [from, to] of edgePairs(graph, selection)) lines.push(`  "${from}" -> "${to}";`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Stable JSON for scripts: stages in topological order, edges with the paths that make them. */
export function dagJson(graph: Graph, selection: readonly StageName[]): object {
  const chosen = new Set(selection);
  return {
    stages: selection.map((name) => ({
      name,
      desc: graph.pipeline.stages.get(name)?.desc ?? null,
      upstream: graph.upstream(name).filter((u) => chosen.has(u)),
    })),
    edges: graph.edges
      .filter((e) => chosen.has(e.from) && chosen.has(e.to))
      .map((e) => ({ from: e.from, to: e.to, out: e.out.value, dep: e.dep.value })),
  };
}

/** Each (writer, reader) pair once, in topological order of the writer, then of the reader. */
function edgePairs(graph: Graph, selection: readonly StageName[]): [StageName, StageName][] {
  const chosen = new Set(selection);
  return selection.flatMap((from) =>
    graph
      .downstream(from)
      .filter((to) => chosen.has(to))
      .sort((a, b) => selection.indexOf(a) - selection.indexOf(b))
      .map((to): [StageName, StageName] => [from, to]),
  );
}
