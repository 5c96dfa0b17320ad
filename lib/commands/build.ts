// `pipe build [target...]`: the targets and only their stale ancestors (see runner.ts), under the
// workspace's build mutex. Ctrl-C / SIGTERM take one abort path: children killed, nothing
// recorded for interrupted stages, exit 130.
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';
import type { StageName } from '../graph/stage.js';
import type { LogFormat } from '../build/report.js';

interface BuildOptions {
  dryRun?: boolean;
  force?: boolean;
  forceStage: string[];
  jobs: number;
  wait: boolean;
  logFormat: LogFormat;
  remoteCache: boolean;
  offline?: boolean;
  keepGoing?: boolean;
  downstream: string[];
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
    .argument(
      '[target...]',
      'stages to bring up to date (default: all); their stale upstream stages run too',
    )
    .option('-n, --dry-run', 'print what would run and why; run nothing')
    .option('-f, --force', 'run every selected stage, fresh or not')
    .option(
      '--force-stage <name>',
      'run this stage even if fresh (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option(
      '-j, --jobs <n>',
      'run up to n independent stages at once',
      positiveInt,
      availableParallelism(),
    )
    .option(
      '--downstream <stage>',
      'also bring everything that reads from this stage up to date (repeatable), like dvc repro --downstream',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option(
      '-k, --keep-going',
      'after a stage fails, still run every stage that does not read from it (like make -k); without it no new stage starts',
    )
    .option('--no-wait', 'fail at once (exit 5) if another build holds the workspace')
    .option('--log-format <format>', 'text, or json: one JSON event per line', logFormat, 'text')
    .option(
      '--no-remote-cache',
      'run stale stages locally even when a published version holds their outputs',
    )
    .option(
      '--offline',
      'do not list gs:// upload sources: a stage reading one runs only if stale for another reason (then it stops)',
    )
    .addHelpText(
      'after',
      '\nEach stage logs to .pipe/logs/<stage>.log.\n' +
        'With PIPE_REMOTE set, a stale stage whose fingerprint a published version has is pulled instead of run.\n' +
        'Exit codes: 0 ok, 3 invalid pipeline.yaml, 4 a stage failed, 5 busy (--no-wait),\n' +
        '8 an upload source could not be looked at (what reads it did not run), 130 interrupted.',
    )
    .action(async (targets: string[], _opts: BuildOptions, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await build(targets, startFolder(cmd), cmd.opts<BuildOptions>());
    });
}

async function build(targets: string[], start: string, opts: BuildOptions): Promise<ExitCode> {
  // Loaded here, not at the top: `pipe --version` must not pay for yaml, ajv and fast-glob.
  const { acquireBuildMutex } = await import('../build/mutex.js');
  const { checkStageNames, loadBuildState } = await import('../build/build-state.js');
  const { judgeStages } = await import('../build/freshness.js');
  const { selectWithAncestors } = await import('../graph/graph.js');
  const { createReporter } = await import('../build/report.js');
  const { runStages, TMP_DIR } = await import('../build/runner.js');
  const { findWorkspace } = await import('../pipeline/workspace.js');
  const { recordStageTimes } = await import('../build/stage-times.js');
  const printer = createReporter(opts.logFormat);
  // Run times go to .pipe/stage-times.json (not the lock: it must not change between identical runs).
  const durations = new Map<string, number>();
  let blind = false;
  let pulled = 0;
  const report: typeof printer = (e) => {
    if (e.type === 'stage-done') durations.set(e.stage, e.durationMs);
    if (e.type === 'stage-pulled') pulled++;
    if (e.type === 'source-unreachable') blind = true;
    printer(e);
  };
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
      if (got.tookOverFrom !== undefined)
        report({ type: 'mutex-takeover', holder: got.tookOverFrom });
      // We hold the mutex: anything in .pipe/tmp is debris of a killed build.
      rmSync(join(root, TMP_DIR), { recursive: true, force: true });
      // As status does: the big folders' stats start on worker threads now and run while this
      // thread loads the pipeline; the first stage's look claims them (hash-folder.ts).
      (await import('../observe/hash-folder.js')).prefetchFolders(root);
    }
    const opened = await loadBuildState(root ?? start, process.stderr, {
      offline: opts.offline === true,
    });
    if (!opened.ok) return opened.code;
    const ws = opened.value;
    // Only build deletes outs: an out holding code a stage imports is refused here (exit 3).
    const { closureOutClashes } = await import('../build/closure-outs.js');
    const clashes = await closureOutClashes(ws);
    if (clashes.length > 0) {
      const { formatDiagnostics } = await import('../pipeline/diagnostics.js');
      process.stderr.write(formatDiagnostics(clashes));
      return ExitCode.invalidPipeline;
    }
    if (
      !checkStageNames(
        ws.pipeline,
        [...targets, ...opts.forceStage, ...opts.downstream],
        process.stderr,
      )
    )
      return ExitCode.usage;
    const { withDescendants } = await import('../graph/graph.js');
    const wanted = [...targets, ...withDescendants(ws.graph, opts.downstream as StageName[])];
    const selected =
      wanted.length === 0 && opts.downstream.length === 0
        ? [...ws.graph.order]
        : selectWithAncestors(ws.graph, wanted as StageName[]);
    const forced = new Set<StageName>(opts.force ? selected : (opts.forceStage as StageName[]));
    if (opts.offline) {
      const { offlineNotes } = await import('../build/offline-notes.js');
      for (const note of offlineNotes(ws, selected)) process.stderr.write(`${note.text}\n`);
    }

    if (opts.dryRun) {
      const judged = await judgeStages(ws, selected, forced);
      for (const stage of selected)
        report({ type: 'plan', stage, reasons: judged.get(stage) ?? [] });
      await ws.cache.save();
      const unseen = [...judged.values()].some((rs) =>
        rs.some((r) => r.kind === 'source-unreachable'),
      );
      return unseen ? ExitCode.sourceUnreachable : ExitCode.ok;
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
      keepGoing: opts.keepGoing === true,
      ...(opts.remoteCache ? await openRemoteCache(ws) : {}),
    });
    await ws.cache.save();
    await recordStageTimes(
      ws.root,
      Object.fromEntries(
        result.ran.flatMap((s) =>
          durations.has(s)
            ? [
                [
                  s,
                  {
                    fingerprint: result.lock.stages[s]!.fingerprint,
                    durationMs: durations.get(s)!,
                  },
                ],
              ]
            : [],
        ),
      ),
    );
    report({
      type: 'summary',
      ran: result.ran.length - pulled,
      pulled,
      fresh: result.fresh.length,
      failed: result.failed,
      skipped: result.skipped.length,
      interrupted: result.interrupted,
      durationMs: Date.now() - started,
    });
    if (result.interrupted) return ExitCode.interrupted;
    if (blind) return ExitCode.sourceUnreachable;
    return result.failed.length > 0 ? ExitCode.stageFailed : ExitCode.ok;
  } finally {
    release?.();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The remote build cache when PIPE_REMOTE is configured and config/trusted-keys/ holds a key
 * (only signed versions are reused); otherwise why not, said once. A bad remote is never fatal.
 */
async function openRemoteCache(ws: import('../build/build-state.js').BuildState) {
  if (ws.config.get('PIPE_REMOTE') === undefined) return {};
  const { NO_TRUSTED_KEYS, remoteCache } = await import('../versions/remote-cache.js');
  const { readTrustedKeys } = await import('../versions/signing-keys.js');
  const unusable = (reason: string) => {
    let told = false;
    const answer = async () => {
      if (told) return { kind: 'miss' as const };
      told = true;
      return { kind: 'unusable' as const, reason };
    };
    return { remoteCache: answer };
  };
  const trusted = readTrustedKeys(ws.root);
  if (!trusted.ok) return unusable(`${trusted.error}; stale stages run locally`);
  if (trusted.value.length === 0) return unusable(NO_TRUSTED_KEYS);
  const { openConfiguredRemote } = await import('../remote/open.js');
  const opened = await openConfiguredRemote(ws.config, ws.root, undefined, { maxRetries: 0 });
  if (!opened.ok) return unusable(opened.error);
  const { transferConcurrency } = await import('./remote-command.js');
  return {
    remoteCache: remoteCache({
      root: ws.root,
      remote: opened.value,
      concurrency: transferConcurrency(ws, opened.value),
      pipeline: ws.pipeline,
      trusted: trusted.value,
    }),
  };
}
