// Runs the stale stages of a selection in dependency order, independent ones in parallel.
//
//   download ──▶ clean ──▶ keypairs ──▶ features
//        └──────▶ lint          (lint and clean may run at once with -j 2)
//
// Each stage waits for its upstream stages, then decides: its fingerprint is computed from the
// CONTENT of its deps as they are now, so if an upstream re-ran and wrote identical bytes, the
// stage is still fresh (early cutoff). A stale stage runs in `.pipe/tmp/<stage>-<rand>/`; only
// when it exits 0 and wrote every out are the outs moved into place, as one unit (a kill half-way
// is rolled back by the next mutex holder: util/replace-outs.ts), and then, last, its lock entry
// written atomically. A failure or a kill at any point leaves the previous outs and lock entry, or
// (killed between the two steps) new outs that do not match the lock, so stale: never something
// that looks fresh.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic-write.js';
import { replaceOuts } from '../util/replace-outs.js';
import { linkTree } from '../util/link-tree.js';
import { releaseMemory } from '../util/release-memory.js';
import {
  lockedPath,
  withEntry,
  writeLock,
  type LockEntry,
  type LockFile,
  type LockedPath,
} from './lockfile.js';
import { flushManifestWrites, manifestStored, saveManifest } from '../observe/manifest-store.js';
import { nameSourceFiles } from './source-names.js';
import { writeSourcesFile } from './sources-file.js';
import { observeOuts, observeStage, type ObserveContext } from './observe-stage.js';
import { staleReasons, type ManifestLookup, type Observed, type StaleReason } from './plan.js';
import { cmdScript, isTypeScriptScript, type Stage, type StageName } from '../graph/stage.js';
import type { Reporter } from './report.js';
import { logPathOf, runStageProcess } from './stage-process.js';
import { endWarmHost, startWarmHost } from './warm-host.js';
import { WorkerPool } from '../util/worker-pool.js';
import type { CacheLookup } from './build-cache.js';
import type { PathHash } from '../observe/types.js';
import { emptyRecord } from '../util/records.js';
import { incrementalVerdict } from './incremental.js';
import { applyOutChanges, REMOVALS_FILE } from './out-changes.js';
import { outsAfterChanges } from './outs-after-changes.js';

export const TMP_DIR = '.pipe/tmp';

/**
 * PIPE_CLI: the bin/pipe.js of the pipe running this build, so a stage asks the same pipe for
 * the tool's facts (`pipe versions diff --json`) rather than importing its modules. This file
 * runs compiled (dist/lib/build/) or from source under tsx (lib/build/): the first that exists.
 */
const PIPE_CLI_PATH = ['../../bin/pipe.js', '../../../bin/pipe.js']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((path) => existsSync(path));

export interface RunPlan {
  readonly workspace: string;
  readonly stages: ReadonlyMap<StageName, Stage>;
  /** The stages to consider, upstream first. */
  readonly selected: readonly StageName[];
  readonly upstream: (stage: StageName) => readonly StageName[];
  readonly jobs: number;
  /** Stages to run even when fresh. */
  readonly forced: ReadonlySet<StageName>;
  readonly observe: ObserveContext;
  readonly manifests: ManifestLookup;
  readonly lock: LockFile;
  /** Variables every stage inherits (process env + resolved config files). */
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly report: Reporter;
  readonly signal: AbortSignal;
  /** The remote build cache (remote-cache.ts): consulted for a stale stage before it runs. */
  readonly remoteCache?: CacheLookup;
  /** After a failure, still start every stage that does not read from a failed one. */
  readonly keepGoing?: boolean;
}

type Outcome = 'ran' | 'fresh' | 'failed' | 'skipped' | 'interrupted';

export interface RunResult {
  readonly ran: StageName[];
  readonly fresh: StageName[];
  readonly failed: StageName[];
  readonly skipped: StageName[];
  readonly interrupted: boolean;
  readonly lock: LockFile;
}

export async function runStages(plan: RunPlan): Promise<RunResult> {
  const pool = new WorkerPool(plan.jobs);
  const outcomes = new Map<StageName, Promise<Outcome>>();
  const result = {
    ran: [] as StageName[],
    fresh: [] as StageName[],
    failed: [] as StageName[],
    skipped: [] as StageName[],
  };
  // Entries of stages no longer in pipeline.yaml are dropped with the first write.
  let lock: LockFile = {
    ...plan.lock,
    stages: Object.fromEntries(
      Object.entries(plan.lock.stages).filter(([s]) => plan.stages.has(s as StageName)),
    ),
  };
  // Lock writes are serialised: each writes the whole file with every entry recorded so far.
  let lockWrites: Promise<void> = Promise.resolve();
  const record = (stage: StageName, entry: LockEntry): Promise<void> => {
    lockWrites = lockWrites.then(async () => {
      lock = withEntry(lock, stage, entry);
      // The manifests the entry names are on disk before the lock names them.
      await flushManifestWrites();
      return writeLock(plan.workspace, lock);
    });
    return lockWrites;
  };

  // The first stage's node process boots while its deps are looked at (warm-host.ts); a build
  // with nothing to run ends it unused, ~50 ms of CPU beside the look. It loads no packages: the
  // look keeps both cores busy, and a package referred to is not always one loaded (download
  // names @google-cloud/storage, ~0.2 s to load, and loads it only for a gs:// bucket).
  if (nextTypeScriptPackages(plan, plan.selected) !== undefined)
    startWarmHost(plan.workspace, plan.baseEnv, []);

  const skippedBecause = new Map<StageName, StageName>();
  let firstFailure: StageName | undefined;
  for (const name of plan.selected) {
    const ups = plan.upstream(name).filter((u) => outcomes.has(u));
    outcomes.set(
      name,
      (async (): Promise<Outcome> => {
        const upOutcomes = await Promise.all(ups.map((u) => outcomes.get(u)!));
        const bad = ups.find((_, i) => upOutcomes[i] === 'failed' || upOutcomes[i] === 'skipped');
        if (upOutcomes.includes('interrupted') || plan.signal.aborted) return 'interrupted';
        if (bad !== undefined) {
          // Blame the stage that failed, not a skipped one between it and this one.
          const failed = skippedBecause.get(bad) ?? bad;
          skippedBecause.set(name, failed);
          plan.report({ type: 'stage-skipped', stage: name, failedUpstream: failed, via: bad });
          return 'skipped';
        }
        return pool.run(async () => {
          if (plan.signal.aborted) return 'interrupted';
          // Like make (and make -k): after a failure no new stage starts, unless --keep-going;
          // stages already running finish and are recorded.
          if (firstFailure !== undefined && plan.keepGoing !== true) {
            plan.report({ type: 'stage-not-started', stage: name, failed: firstFailure });
            return 'skipped';
          }
          const outcome = await considerStage(plan, name, record);
          if (outcome === 'failed') firstFailure ??= name;
          return outcome;
        });
      })(),
    );
  }
  try {
    for (const [name, outcome] of outcomes) {
      const o = await outcome;
      if (o === 'ran' || o === 'fresh' || o === 'failed' || o === 'skipped') result[o].push(name);
    }
    await lockWrites;
  } finally {
    endWarmHost();
  }
  return { ...result, interrupted: plan.signal.aborted, lock };
}

async function considerStage(
  plan: RunPlan,
  name: StageName,
  record: (stage: StageName, entry: LockEntry) => Promise<void>,
): Promise<Outcome> {
  const stage = plan.stages.get(name)!;
  const before = await observeStage(plan.observe, stage);
  const entry = plan.lock.stages[name];
  const sources = before.sources ?? {};
  const ownReasons: StaleReason[] = plan.forced.has(name)
    ? [{ kind: 'forced' }]
    : staleReasons(entry, before, plan.manifests);
  const reasons = nameSourceFiles(ownReasons, sources);
  // An upload source that could not be looked at: what the stage would read is unknown, so it
  // does not run (forced or not), and neither does anything below it.
  const blind = Object.values(sources).find((s) => s.state === 'unreachable');
  if (blind !== undefined) {
    plan.report({ type: 'source-unreachable', stage: name, url: blind.url, why: blind.why });
    return 'failed';
  }
  if (reasons.length === 0) {
    plan.report({ type: 'stage-fresh', stage: name });
    return 'fresh';
  }
  const log = relative(plan.workspace, logPathOf(plan.workspace, name));
  const fail = (message: string, tail: readonly string[] = []): Outcome => {
    plan.report({ type: 'stage-failed', stage: name, message, log, tail });
    return 'failed';
  };
  const refuse = (message: string): Outcome => {
    plan.report({ type: 'stage-failed', stage: name, message, tail: [] });
    return 'failed';
  };
  const unlisted = Object.values(sources).find((s) => s.state === 'not-checked');
  if (unlisted !== undefined) {
    plan.report({
      type: 'source-unreachable',
      stage: name,
      url: unlisted.url,
      why: 'not looked at (--offline), and the stage must run; run without --offline',
    });
    return 'failed';
  }
  const missingDep = Object.values(before.deps).find((d) => d.kind === 'missing');
  if (missingDep !== undefined)
    return refuse(
      `dep ${missingDep.path} does not exist; create it or add the stage that writes it`,
    );
  const script = cmdScript(stage.cmd.value);
  if (script !== undefined && before.cmd[script] === undefined)
    return refuse(`cmd ${script} does not exist`);

  if (
    plan.remoteCache !== undefined &&
    !plan.forced.has(name) &&
    (await pulledFromRemote(plan, stage, before, record))
  )
    return 'ran';
  const verdict = plan.forced.has(name)
    ? ({ kind: 'full' } as const)
    : incrementalVerdict(stage, entry, before, ownReasons);
  plan.report({
    type: 'stage-start',
    stage: name,
    reasons,
    ...(verdict.kind === 'incremental' ? { incremental: true } : {}),
  });
  const started = Date.now();
  const tmp = join(plan.workspace, TMP_DIR, `${name}-${randomBytes(4).toString('hex')}`);
  try {
    const outsTmp = new Map(stage.outs.map((o) => [o.value, join(tmp, 'outs', o.value)]));
    for (const p of outsTmp.values()) mkdirSync(dirname(p), { recursive: true });
    const metricsFile = join(tmp, 'metrics.json');
    let incrementalFile: string | undefined;
    // `incremental: changes`: only new and changed files go to the temp outs, removals are
    // listed (out-changes.ts); the previous outputs are read where they are. The sources file
    // then lists only the source files it may place: the added and modified ones.
    const changesOnly = verdict.kind === 'incremental' && stage.incrementalOuts === 'changes';
    const sourcesFile = await writeSourcesFile(
      plan.workspace,
      tmp,
      sources,
      changesOnly
        ? Object.fromEntries(
            Object.keys(sources).map((d) => {
              const c = verdict.changes.deps[d];
              return [d, new Set([...(c?.added ?? []), ...(c?.modified ?? [])])];
            }),
          )
        : undefined,
    );
    const removalsFile = changesOnly ? join(tmp, REMOVALS_FILE) : undefined;
    if (verdict.kind === 'incremental') {
      // The previous outputs, as hard links, for the stage to update; the real ones stay as they
      // are until the run succeeds, so a failed or killed run leaves them and the lock intact.
      for (const [declared, to] of outsTmp) {
        if (!changesOnly) await linkTree(join(plan.workspace, declared), to);
        else if (before.outs[declared]?.kind === 'dir') mkdirSync(to);
      }
      incrementalFile = join(tmp, 'incremental.json');
      const changes = { ...verdict.changes, outs: changesOnly ? 'changes' : 'linked' };
      await writeFileAtomic(incrementalFile, `${JSON.stringify(changes)}\n`);
    }
    // A full run (DuckDB over all the data) starts with the runner's garbage given back; an
    // incremental one works on a few parts, and the collection (~50 ms at 241,605 uploads) would
    // be a fair share of its time.
    if (verdict.kind !== 'incremental') releaseMemory();
    const exit = await runStageProcess({
      workspace: plan.workspace,
      stage: name,
      cmd: stage.cmd.value,
      code: before.cmd,
      logPath: logPathOf(plan.workspace, name),
      report: plan.report,
      signal: plan.signal,
      warmNext: nextTypeScriptPackages(plan, plan.selected.slice(plan.selected.indexOf(name) + 1)),
      env: {
        ...withoutRunFiles(plan.baseEnv),
        PIPE_WORKSPACE: plan.workspace,
        PIPE_STAGE: name,
        PIPE_DEPS: JSON.stringify(stage.deps.map((d) => d.value)),
        PIPE_OUTS: JSON.stringify(Object.fromEntries(outsTmp)),
        ...outVariables([...outsTmp.values()]),
        PIPE_PARAMS: JSON.stringify(before.params),
        PIPE_METRICS_FILE: metricsFile,
        ...(sourcesFile === undefined ? {} : { PIPE_SOURCES: sourcesFile }),
        ...(incrementalFile === undefined ? {} : { PIPE_INCREMENTAL: incrementalFile }),
        ...(removalsFile === undefined ? {} : { PIPE_REMOVALS: removalsFile }),
        ...(PIPE_CLI_PATH === undefined ? {} : { PIPE_CLI: PIPE_CLI_PATH }),
      },
    });
    if (exit.kind === 'aborted' || plan.signal.aborted) {
      plan.report({ type: 'stage-interrupted', stage: name });
      return 'interrupted';
    }
    if (exit.kind === 'spawn-failed') return fail(`could not start: ${exit.message}`);
    if (exit.kind === 'signalled') return fail(`killed by ${exit.signal}`, exit.tail);
    if (exit.code !== 0) return fail(exitMessage(exit.code, script), exit.tail);
    // With only changes written, an out left alone is the previous one.
    const unwritten = changesOnly ? undefined : [...outsTmp].find(([, p]) => !existsSync(p));
    if (unwritten !== undefined) {
      return fail(
        `exited 0 but did not write out ${unwritten[0]} (write it to the path PIPE_OUTS gives)`,
      );
    }
    let known: Record<string, PathHash> | undefined;
    try {
      if (removalsFile === undefined) await moveIntoPlace(plan.workspace, tmp, outsTmp);
      else {
        const applied = await applyOutChanges(plan.workspace, tmp, outsTmp, removalsFile);
        if (!applied.ok) return fail(applied.error);
        const declared = [...outsTmp.keys()];
        known = await outsAfterChanges(
          plan.workspace,
          declared,
          before.outs,
          applied.value,
          plan.observe.cache,
        );
      }
    } finally {
      plan.observe.memo.forget([...outsTmp.keys()]);
    }
    // Outs the applied changes account for are not walked again (outs-after-changes.ts).
    for (const [declared, h] of Object.entries(known ?? {}))
      plan.observe.memo.remember(declared, h);
    const outs = await observeOuts(plan.observe, stage);
    await record(name, await lockEntryFor(plan.workspace, before, outs, readMetrics(metricsFile)));
    plan.observe.memo.settle(plan.workspace, plan.observe.cache, [
      ...Object.keys(before.deps),
      // A source folder is memoised under its path from the workspace, not its declared form.
      ...Object.values(sources).flatMap((s) =>
        s.state === 'observed' && s.target.kind === 'folder' ? [s.target.rel] : [],
      ),
      ...Object.keys(outs),
    ]);
    // Early cutoff is news only when the outs were there before: outs that were missing (a fresh
    // clone) and came back as the lock records them leave nothing below fresh that was not.
    const unchanged =
      entry !== undefined &&
      stage.outs.every((o) => before.outs[o.value]?.kind !== 'missing') &&
      stage.outs.every((o) => entry.outs[o.value]?.sha256 === shaOf(outs[o.value]));
    plan.report({ type: 'stage-done', stage: name, durationMs: Date.now() - started, unchanged });
    return 'ran';
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * A remote cache hit applied in place of running: the outs are pulled (verified, atomic), then
 * recorded like a run's, with the version and pusher as their source. False: run it locally
 * (a miss, or the remote could not help, which is said and is never a failure).
 */
async function pulledFromRemote(
  plan: RunPlan,
  stage: Stage,
  before: Observed,
  record: (stage: StageName, entry: LockEntry) => Promise<void>,
): Promise<boolean> {
  const answer = await plan.remoteCache!(stage.name, before.fingerprint);
  if (answer.kind === 'miss') return false;
  if (answer.kind === 'unusable') {
    plan.report({ type: 'remote-cache-unusable', stage: stage.name, reason: answer.reason });
    return false;
  }
  const started = Date.now();
  const applied = await answer.apply();
  // Applied or not, the pull may have rewritten outs: observations of them are void.
  plan.observe.memo.forget(stage.outs.map((o) => o.value));
  if (!applied.ok) {
    plan.report({
      type: 'remote-cache-unusable',
      stage: stage.name,
      reason: `${applied.reason}; running it locally`,
    });
    return false;
  }
  const outs = await observeOuts(plan.observe, stage);
  const entry = await lockEntryFor(
    plan.workspace,
    before,
    outs,
    answer.metrics === undefined ? undefined : { ...answer.metrics },
  );
  await record(stage.name, {
    ...entry,
    source: { version: answer.version, pushedBy: answer.pushedBy },
  });
  plan.report({
    type: 'stage-pulled',
    stage: stage.name,
    version: answer.version,
    pushedBy: answer.pushedBy,
    signedBy: answer.signedBy,
    files: applied.files,
    bytes: applied.bytes,
    durationMs: Date.now() - started,
  });
  return true;
}

/**
 * The packages the first TypeScript stage in `among` (stages in the order they are considered)
 * imported on its last run, for a node process readied for it (warm-host.ts); undefined when
 * there is no such stage.
 */
function nextTypeScriptPackages(plan: RunPlan, among: readonly StageName[]): string[] | undefined {
  const next = among.find((s) => {
    const script = cmdScript(plan.stages.get(s)!.cmd.value);
    return script !== undefined && isTypeScriptScript(script);
  });
  return next === undefined ? undefined : Object.keys(plan.lock.stages[next]?.packages ?? {});
}

/**
 * The variables that name one run's files are set per run or not at all: one inherited from the
 * environment pipe itself runs in would tell a full run it is incremental.
 */
function withoutRunFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { PIPE_INCREMENTAL: _i, PIPE_SOURCES: _s, PIPE_REMOVALS: _r, ...rest } = env;
  return rest;
}

/**
 * `PIPE_OUT_1`.. `PIPE_OUT_<n>`: the temp paths of PIPE_OUTS again, one variable per out in the
 * order `outs` lists them, so a shell command line can name them ("$PIPE_OUT_1") without JSON.
 */
function outVariables(tempPaths: readonly string[]): Record<string, string> {
  return Object.fromEntries(tempPaths.map((p, i) => [`PIPE_OUT_${i + 1}`, p]));
}

/** A command line's 126 and 127 are the shell's own verdicts: say so beside the stderr tail. */
function exitMessage(code: number, script: string | undefined): string {
  if (script === undefined && code === 127)
    return 'exited with code 127: the shell found no such command (its message is in the output above)';
  if (script === undefined && code === 126)
    return 'exited with code 126: the shell could not execute the command (not executable?)';
  return `exited with code ${code}`;
}

/** Every out into place as one unit: a kill half-way is rolled back (util/replace-outs.ts). */
async function moveIntoPlace(
  workspace: string,
  tmp: string,
  outsTmp: ReadonlyMap<string, string>,
): Promise<void> {
  const moves = [...outsTmp].map(([rel, from]) => ({ rel, staged: relative(workspace, from) }));
  await replaceOuts(workspace, tmp, moves);
}

function shaOf(h: PathHash | undefined): string | undefined {
  return h === undefined || h.kind === 'missing' ? undefined : h.sha256;
}

function readMetrics(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

async function lockedAndSaved(workspace: string, h: PathHash): Promise<LockedPath> {
  if (h.kind === 'missing') throw new Error(`internal: ${h.path} vanished while recording it`);
  // A manifest is stored under its own hash: one already there (the observation stored it, or an
  // earlier build) is not listed and written again (241,605 lines for data/raw).
  if (h.kind !== 'file' && !manifestStored(workspace, h.sha256))
    await saveManifest(workspace, h.kind === 'glob' ? '' : h.path, h.files);
  return lockedPath(h);
}

async function lockEntryFor(
  workspace: string,
  before: Observed,
  outs: Readonly<Record<string, PathHash>>,
  metrics: Record<string, unknown> | undefined,
): Promise<LockEntry> {
  const deps = emptyRecord<LockedPath>();
  for (const [p, h] of Object.entries(before.deps)) deps[p] = await lockedAndSaved(workspace, h);
  const lockedOuts = emptyRecord<LockedPath>();
  for (const [p, h] of Object.entries(outs)) lockedOuts[p] = await lockedAndSaved(workspace, h);
  const entry: LockEntry = {
    fingerprint: before.fingerprint,
    cmd: before.cmd,
    packages: before.packages,
    deps,
    params: before.params,
    env: before.env,
    outs: lockedOuts,
  };
  return metrics === undefined ? entry : { ...entry, metrics };
}
