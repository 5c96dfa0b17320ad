// `pipe status [stage...]`: every stage fresh or stale, and why. `--json` follows the schema in
// docs/status-json.md; `--check` exits 1 when anything is stale (like `make -q`).
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { statSync } from 'node:fs';
import { ExitCode } from '../util/exit-codes.js';

/**
 * The `--json` schema version (docs/status-json.md). Bumped only on incompatible changes.
 * 2: the reason `cmd-changed` became `code-changed` (a stage's code is its whole import closure).
 */
export const STATUS_SCHEMA = 2;

interface StatusOptions {
  json?: boolean;
  check?: boolean;
  offline?: boolean;
}

/** Changed files of one dep listed by name in the text output; more are counted (--json: all). */
const LISTED_CHANGES = 5;

export function defineStatus(program: Command, outcome: CommandOutcome): void {
  program
    .command('status')
    .description('show which stages are fresh or stale, and why')
    .argument('[stage...]', 'stages to show (default: all); their upstream stages are judged too')
    .option('--json', 'print a JSON document (schema: docs/status-json.md)')
    .option('--check', 'print nothing; exit 1 if any shown stage is stale, 0 if all are fresh')
    .option(
      '--offline',
      'do not list gs:// upload sources: judge them as the last build saw them (says so)',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 ok (or all fresh with --check), 1 stale (with --check), 3 invalid pipeline.yaml,\n' +
        '8 an upload source (file:// folder, gs:// bucket) could not be looked at.',
    )
    .action(async (names: string[], _opts: StatusOptions, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await status(names, startFolder(cmd), cmd.opts<StatusOptions>());
    });
}

async function status(names: string[], start: string, opts: StatusOptions): Promise<ExitCode> {
  // The big folders' stats start first, on worker threads, and run while this thread loads the
  // pipeline (yaml, schema) and the modules below: at 100,000 uploads they are most of the work.
  const { findWorkspace } = await import('../pipeline/workspace-root.js');
  const root = isFolder(start) ? findWorkspace(start) : undefined;
  if (root !== undefined) (await import('../observe/hash-folder.js')).prefetchFolders(root);
  // Loaded here, not at the top: `pipe --version` must not pay for yaml, ajv and fast-glob.
  const { checkStageNames, loadBuildState } = await import('../build/build-state.js');
  const { judgeStages } = await import('../build/freshness.js');
  const { selectWithAncestors } = await import('../graph/graph.js');
  const { collapseFileChanges, formatReason } = await import('../build/report.js');
  const { offlineNotes } = await import('../build/offline-notes.js');
  const offline = opts.offline === true;
  const opened = await loadBuildState(start, process.stderr, { offline });
  if (!opened.ok) return opened.code;
  const ws = opened.value;
  if (!checkStageNames(ws.pipeline, names, process.stderr)) return ExitCode.usage;
  const shown =
    names.length === 0 ? [...ws.graph.order] : ws.graph.order.filter((s) => names.includes(s));
  const judged = await judgeStages(ws, selectWithAncestors(ws.graph, shown));
  await ws.cache.save();
  const stale = shown.filter((s) => (judged.get(s) ?? []).length > 0);
  // A source that could not be looked at leaves the answer unknown: never "fresh", never exit 0.
  const blind = [...judged.values()].some((rs) => rs.some((r) => r.kind === 'source-unreachable'));
  const notChecked = offline ? offlineNotes(ws, shown) : [];

  if (opts.check)
    return blind ? ExitCode.sourceUnreachable : stale.length > 0 ? ExitCode.stale : ExitCode.ok;
  if (opts.json) {
    const doc = {
      schema: STATUS_SCHEMA,
      workspace: ws.root,
      stale,
      stages: shown.map((name) => {
        const reasons = judged.get(name) ?? [];
        return { name, state: reasons.length > 0 ? 'stale' : 'fresh', reasons };
      }),
      hashing: { statted: ws.stats.statted, hashed: ws.stats.hashed },
      ...(offline
        ? {
            offline: true,
            notChecked: notChecked.map(({ stage, dep, url }) => ({ stage, dep, url })),
          }
        : {}),
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return blind ? ExitCode.sourceUnreachable : ExitCode.ok;
  }
  const { paintFor } = await import('../util/colour.js');
  const paint = paintFor(process.stdout);
  const lines: string[] = [];
  for (const note of notChecked) lines.push(note.text);
  for (const name of shown) {
    const reasons = judged.get(name) ?? [];
    lines.push(`${name}: ${reasons.length > 0 ? paint.yellow('stale') : paint.green('fresh')}`);
    for (const line of collapseFileChanges(reasons, formatReason, LISTED_CHANGES))
      lines.push(`  ${line}`);
  }
  lines.push(
    blind
      ? 'an upload source could not be looked at: what reads it is not known to be fresh (exit 8)'
      : stale.length === 0
        ? 'everything is fresh'
        : `${stale.length} of ${shown.length} stages stale; run \`npx pipe build\``,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return blind ? ExitCode.sourceUnreachable : ExitCode.ok;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // said properly by loadBuildState below
  }
}
