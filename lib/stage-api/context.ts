// The stage side of docs/stage-contract.md: reads the PIPE_* variables the runner sets into a
// typed object, so stage scripts never parse the environment themselves.
import { readFileSync, writeFileSync } from 'node:fs';

/** One dep's files that changed since the stage's last successful run (workspace-relative, sorted). */
export interface DepChanges {
  readonly added: readonly string[];
  readonly modified: readonly string[];
  readonly deleted: readonly string[];
}

/**
 * An incremental run (docs/stage-contract.md, "Incremental stages"): only the files of these deps
 * changed since the last successful run (code, params, env and declaration are the same), and each
 * temp out path already holds that run's outputs to update. Replace files there (write a new file,
 * rename it over, or delete); never write into one: they are hard links to the current outputs.
 */
export interface IncrementalRun {
  /**
   * Every declared dep (as written) -> its changed files; a dep with no change lists none. An
   * upload-source dep's files are named as PIPE_SOURCES names them: relative to the folder or
   * bucket prefix.
   */
  readonly deps: Readonly<Record<string, DepChanges>>;
  /**
   * 'linked' (`incremental: true`): each temp out path holds the previous outputs as hard links,
   * to update. 'changes' (`incremental: changes`): the temp out paths start empty (a folder out
   * as an empty folder); write only new and changed files there, read the previous outputs at
   * their workspace paths, and name the files to remove with removeFromOut().
   */
  readonly outs: 'linked' | 'changes';
}

export interface StageContext {
  readonly workspace: string;
  readonly stage: string;
  readonly deps: readonly string[];
  readonly outs: Readonly<Record<string, string>>;
  readonly params: Readonly<Record<string, unknown>>;
  /** Set when the runner runs an `incremental: true` stage incrementally; null for a full run. */
  readonly incremental: IncrementalRun | null;
  /** The temporary absolute path to write the declared out `declared` to. */
  out(declared: string): string;
  /** The value of a declared param; throws if the stage did not declare it. */
  param<T>(key: string): T;
  /** Record counts and other small facts about this run, kept in the lock entry. */
  writeMetrics(metrics: Record<string, unknown>): void;
  /**
   * An `incremental: changes` run: files (paths inside the out `declared`) of the previous
   * outputs that the runner removes when the run succeeds. Calls add up.
   */
  removeFromOut(declared: string, paths: readonly string[]): void;
}

function jsonVar<T>(env: NodeJS.ProcessEnv, name: string, fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return JSON.parse(raw) as T;
}

export function stageContext(env: NodeJS.ProcessEnv = process.env): StageContext {
  const workspace = env.PIPE_WORKSPACE ?? process.cwd();
  const stage = env.PIPE_STAGE ?? '(unknown stage)';
  const deps = jsonVar<string[]>(env, 'PIPE_DEPS', []);
  const outs = jsonVar<Record<string, string>>(env, 'PIPE_OUTS', {});
  const params = jsonVar<Record<string, unknown>>(env, 'PIPE_PARAMS', {});
  const metricsFile = env.PIPE_METRICS_FILE;
  const removalsFile = env.PIPE_REMOVALS;
  const removals: Record<string, string[]> = {};
  const incrementalFile = env.PIPE_INCREMENTAL;
  const incremental =
    incrementalFile === undefined || incrementalFile === ''
      ? null
      : (JSON.parse(readFileSync(incrementalFile, 'utf8')) as IncrementalRun);
  return {
    workspace,
    stage,
    deps,
    outs,
    params,
    incremental,
    out(declared) {
      const path = outs[declared];
      if (path === undefined) {
        throw new Error(
          `stage ${stage} writes ${declared}, but pipeline.yaml does not list it in outs`,
        );
      }
      return path;
    },
    param<T>(key: string): T {
      if (!(key in params)) {
        throw new Error(
          `stage ${stage} reads param ${key}, but pipeline.yaml does not list it in params`,
        );
      }
      return params[key] as T;
    },
    writeMetrics(metrics) {
      if (metricsFile !== undefined) writeFileSync(metricsFile, JSON.stringify(metrics));
    },
    removeFromOut(declared, paths) {
      if (removalsFile === undefined || removalsFile === '')
        throw new Error(
          `stage ${stage} removes files from ${declared}, but this is not an incremental: changes run (no PIPE_REMOVALS)`,
        );
      if (outs[declared] === undefined)
        throw new Error(
          `stage ${stage} removes files from ${declared}, but pipeline.yaml does not list it in outs`,
        );
      const listed = removals[declared] ?? [];
      for (const p of paths) listed.push(p);
      removals[declared] = listed;
      writeFileSync(removalsFile, JSON.stringify(removals));
    },
  };
}
