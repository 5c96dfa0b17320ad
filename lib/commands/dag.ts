// `pipe dag [target...]`: the graph as a text tree, or as Mermaid / Graphviz / JSON.
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';
import type { StageName } from '../graph/stage.js';

interface DagOptions {
  readonly mermaid?: boolean;
  readonly dot?: boolean;
  readonly json?: boolean;
}

export function defineDag(program: Command, outcome: CommandOutcome): void {
  program
    .command('dag')
    .description('show the stage graph (only the targets and what they read from, when given)')
    .argument('[target...]', 'stages to show with their upstream stages (default: all)')
    .option('--mermaid', 'print a Mermaid flowchart')
    .option('--dot', 'print Graphviz dot')
    .option('--json', 'print stages and edges as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  pipe dag\n  pipe dag features --mermaid\n  pipe dag --dot | dot -Tsvg > dag.svg\n',
    )
    .action(async (targets: string[], options: DagOptions, command: Command) => {
      outcome.code = await runDag(targets, options, command);
    });
}

async function runDag(
  targets: readonly string[],
  options: DagOptions,
  command: Command,
): Promise<ExitCode> {
  const formats = [options.mermaid, options.dot, options.json].filter(Boolean).length;
  if (formats > 1) {
    process.stderr.write('pipe dag: choose one of --mermaid, --dot, --json\n');
    return ExitCode.usage;
  }
  // Loaded here, not at the top: `pipe --version` must not pay for yaml and ajv.
  const { openWorkspace } = await import('../pipeline/workspace.js');
  const { startFolder } = await import('./outcome.js');
  const { buildGraph, selectWithAncestors } = await import('../graph/graph.js');
  const render = await import('../graph/dag-render.js');
  const { closest } = await import('../util/closest.js');
  const opened = await openWorkspace(startFolder(command));
  if (!opened.ok) return opened.error;
  const graph = buildGraph(opened.value);
  const chosen: StageName[] = [];
  for (const target of targets) {
    const stage = opened.value.stages.get(target as StageName);
    if (stage !== undefined) {
      chosen.push(stage.name);
      continue;
    }
    const guess = closest(target, opened.value.stages.keys());
    process.stderr.write(
      `pipe dag: no stage named "${target}" in pipeline.yaml${guess === undefined ? '' : ` (did you mean "${guess}"?)`}\n`,
    );
    return ExitCode.usage;
  }
  const selection = chosen.length === 0 ? [...graph.order] : selectWithAncestors(graph, chosen);
  if (options.json)
    process.stdout.write(`${JSON.stringify(render.dagJson(graph, selection), null, 2)}\n`);
  else if (options.mermaid) process.stdout.write(render.renderMermaid(graph, selection));
  else if (options.dot) process.stdout.write(render.renderDot(graph, selection));
  else process.stdout.write(render.renderTree(graph, selection));
  return ExitCode.ok;
}
