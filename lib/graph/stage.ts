// The data model of pipeline.yaml after parsing and validation: what every other module reads.
// Pure types; `pipeline-file.ts` builds them, `graph.ts` orders them.

/** A stage name as written in pipeline.yaml. Branded so a name never mixes with a path. */
export type StageName = string & { readonly __brand: 'StageName' };

/**
 * Where something sits in a source file. `offset` and `length` count UTF-16 code units from the
 * start of the text (0-based); `line` and `column` are 1-based, as editors show them.
 */
export interface SourceRange {
  readonly offset: number;
  readonly length: number;
  readonly line: number;
  readonly column: number;
}

/** A value together with the place in pipeline.yaml it came from, for diagnostics. */
export interface Located<T> {
  readonly value: T;
  readonly range: SourceRange;
}

export interface Stage {
  readonly name: StageName;
  readonly nameRange: SourceRange;
  readonly desc: string | undefined;
  /**
   * The stage updates its previous outputs when only its deps' files changed: the runner then
   * hands it the changed files and those outputs (docs/stage-contract.md, "Incremental stages").
   */
  readonly incremental: boolean;
  /**
   * How an incremental run gets its previous outputs: 'linked' (`incremental: true`), as hard
   * links in its temp out paths to update; 'changes' (`incremental: changes`), read where they
   * are, with only new and changed files written to the temp outs and removals listed. Absent
   * means 'linked'.
   */
  readonly incrementalOuts?: 'linked' | 'changes';
  /**
   * What the stage runs (docs/stage-contract.md), one of two kinds told apart by `cmdScript`:
   * - a node script: the workspace-relative POSIX path of one .ts/.mts/.js/.mjs file
   *   (`stages/clean.ts`), normalised like every path; it must exist and no stage may write it.
   *   Its code deps are found by the runner.
   * - a command line: anything else (`python3 train.py`, `sh scripts/x.sh`, `duckdb -c "..."`),
   *   kept exactly as written and run by bash in the workspace. It is not a path: the files it
   *   runs count as code only when the stage lists them in `deps`.
   * Both get the same contract: PIPE_* variables, temp outs, logs, the kill of their process group.
   */
  readonly cmd: Located<string>;
  /** Files, folders or globs the stage reads; workspace-relative POSIX, no trailing slash. */
  readonly deps: readonly Located<string>[];
  /** Files or folders the stage writes; workspace-relative POSIX, no trailing slash. */
  readonly outs: readonly Located<string>[];
  /** Dotted keys of params.yaml whose values the stage reads (`clean.max_hold_ms`). */
  readonly params: readonly Located<string>[];
  /** Names of environment variables whose values are inputs of the stage. */
  readonly env: readonly Located<string>[];
}

export interface Pipeline {
  /** Absolute path of the workspace: the folder that holds pipeline.yaml. */
  readonly root: string;
  /** Absolute path of pipeline.yaml. */
  readonly file: string;
  /** The stages in the order pipeline.yaml declares them. */
  readonly stages: ReadonlyMap<StageName, Stage>;
}

/**
 * A `cmd` that names one JavaScript or TypeScript file: node runs it, with tsx for TypeScript.
 * One word with none of the shell's quotes, expansions or operators, so `node x.mjs` or
 * `stages/a.ts > log` stay command lines.
 */
const NODE_SCRIPT = /^[^\s'"`$;&|<>]+\.(ts|mts|js|mjs)$/;

/**
 * The node script a stage's `cmd` runs, when `cmd` is one (`stages/clean.ts`); undefined when
 * `cmd` is a command line (`python3 train.py`), which a shell runs and whose files are deps only
 * as declared. A script's code deps are found by the runner (its import closure).
 */
export function cmdScript(cmd: string): string | undefined {
  return NODE_SCRIPT.test(cmd) ? cmd : undefined;
}

/** Whether node script `script` (cmdScript) is TypeScript: it runs compiled, or under tsx. */
export function isTypeScriptScript(script: string): boolean {
  return script.endsWith('.ts') || script.endsWith('.mts');
}

/**
 * A dep that names an upload source rather than a workspace path: a folder anywhere
 * (`file:///abs/path`), a bucket prefix (`gs://bucket/prefix`), or a configuration value holding
 * such a URL (`${UPLOADS_URL}`). Never an edge of the graph: no stage writes it. What it resolves
 * to, and how it is observed, is the build's business (lib/build/source-deps.ts).
 */
export function isSourceDep(dep: string): boolean {
  return SOURCE_DEP.test(dep);
}

const SOURCE_DEP = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|\$\{)/;

/** The configuration value a `${NAME}` dep names, or undefined for any other dep. */
export function sourceVariable(dep: string): string | undefined {
  return /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(dep)?.[1];
}
