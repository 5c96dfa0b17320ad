// `pipe build [target...]`: the targets and only their stale ancestors (see runner.ts), under the
// workspace's build mutex. Ctrl-C / SIGTERM take one abort path: children killed, nothing
// recorded for interrupted stages, exit 130.
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';
import type { StageName } from '../pipeline.js';
import type { LogFormat } from '../report.js';

interface BuildOptions {
  dryRun?: boolean;
  force?: boolean;
  forceStage: string[];
  jobs: number;
  wait: boolean;
  logFormat: LogFormat;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number >= 1');
  return n;
}

function logFormat(value: string): LogFormat {
  if (value !== 'text' && value !== 'json') throw new InvalidArgumentError('must be text or json');
  return value;
}

export function defineBuild(program: Command, outcome: CommandOutcome): void {
  program
    .command('build')
    .description('run the stale stages needed for the targets, in dependency order')
    .argument('[target...]', 'stages to bring up to date (default: all); their stale upstream stages run too')
    .option('-n, --dry-run', 'print what would run and why; run nothing')
    .option('-f, --force', 'run every selected stage, fresh or not')
    .option('--force-stage <name>', 'run this stage even if fresh (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('-j, --jobs <n>', 'run up to n independent stages at once', positiveInt, availableParallelism())
    .option('--no-wait', 'fail at once (exit 5) if another build holds the workspace')
    .option('--log-format <format>', 'text, or json: one JSON event per line', logFormat, 'text')
    .addHelpText(
      'after',
      '\nEach stage logs to .pipe/logs/<stage>.log.\n' +
        'Exit codes: 0 ok, 3 invalid pipeline.yaml, 4 a stage failed, 5 busy (--no-wait), 130 interrupted.',
    )
    .action(async (targets: string[], _opts: BuildOptions, cmd: Command) => {
      const { startFolder } = await import('../workspace.js');
      outcome.code = await build(targets, startFolder(cmd), cmd.opts<BuildOptions>());
    });
}

async function build(targets: string[], start: string, opts: BuildOptions): Promise<ExitCode> {
  // Loaded here, not at the top: `pipe --version` must not pay for yaml, ajv and fast-glob.
  const { acquireBuildMutex } = await import('../build-mutex.js');
  const { checkStageNames, loadBuildState } = await import('../build-state.js');
  const { judgeStages } = await import('../freshness.js');
  const { selectWithAncestors } = await import('../graph.js');
  const { createReporter } = await import('../report.js');
  const { runStages, TMP_DIR } = await import('../runner.js');
  const { findWorkspace } = await import('../workspace.js');
  const report = createReporter(opts.logFormat);
  const root = existsSync(start) ? findWorkspace(start) : undefined;
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let release: (() => void) | undefined;
  try {
    if (root !== undefined && !opts.dryRun) {
      const command = ['pipe', ...process.argv.slice(2)].join(' ');
      const got = await acquireBuildMutex(root, {
        command,
        noWait: !opts.wait,
        onWait: (holder) => report({ type: 'mutex-wait', holder }),
        signal: abort.signal,
      });
      if (!got.ok) {
        if (got.reason === 'aborted') return ExitCode.interrupted;
        const h = got.holder;
        process.stderr.write(
          `pipe: another build holds this workspace: pid ${h.pid} on ${h.host} (${h.command}) since ${h.since}.\n` +
            `  wait for it (run without --no-wait), or if that process is gone, delete ${join(root, '.pipe', 'build.lock')}\n`,
        );
        return ExitCode.busy;
      }
      release = got.release;
      if (got.tookOverFrom !== undefined) report({ type: 'mutex-takeover', holder: got.tookOverFrom });
      // We hold the mutex: anything in .pipe/tmp is debris of a killed build.
      rmSync(join(root, TMP_DIR), { recursive: true, force: true });
    }
    const opened = await loadBuildState(root ?? start, process.stderr);
    if (!opened.ok) return opened.code;
    const ws = opened.value;
    if (!checkStageNames(ws.pipeline, [...targets, ...opts.forceStage], process.stderr)) return ExitCode.usage;
    const selected = targets.length === 0 ? [...ws.graph.order] : selectWithAncestors(ws.graph, targets as StageName[]);
    const forced = new Set<StageName>(opts.force ? selected : (opts.forceStage as StageName[]));

    if (opts.dryRun) {
      const judged = await judgeStages(ws, selected, forced);
      for (const stage of selected) report({ type: 'plan', stage, reasons: judged.get(stage) ?? [] });
      await ws.cache.save();
      return ExitCode.ok;
    }
    const started = Date.now();
    const result = await runStages({
      workspace: ws.root,
      stages: ws.pipeline.stages,
      selected,
      upstream: (s) => ws.graph.upstream(s),
      jobs: opts.jobs,
      forced,
      observe: ws.observe,
      manifests: ws.manifests,
      lock: ws.lock,
      baseEnv: { ...process.env, ...ws.config.resolvedFileKeys() },
      report,
      signal: abort.signal,
    });
    await ws.cache.save();
    report({
      type: 'summary',
      ran: result.ran.length,
      fresh: result.fresh.length,
      failed: result.failed,
      skipped: result.skipped.length,
      interrupted: result.interrupted,
      durationMs: Date.now() - started,
    });
    if (result.interrupted) return ExitCode.interrupted;
    return result.failed.length > 0 ? ExitCode.stageFailed : ExitCode.ok;
  } finally {
    release?.();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
