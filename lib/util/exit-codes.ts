// Exit codes, one per failure family (README lists them). Only cli.ts turns them into the
// process's exit code; commands return them.
export const ExitCode = {
  ok: 0,
  /** `status --check`: something is stale (like `make -q`). */
  stale: 1,
  /** Bad command line: unknown option, missing argument. */
  usage: 2,
  /** pipeline.yaml, params.yaml or config is invalid; nothing ran. */
  invalidPipeline: 3,
  /** A stage's script failed (non-zero exit or killed); its log is named. */
  stageFailed: 4,
  /** Another build holds the workspace's build mutex (with --no-wait). */
  busy: 5,
  /** The remote refused, is unreachable, or holds corrupt data (push/pull/versions). */
  remote: 6,
  /** The workspace is not in a state the command can act on (stale outputs for push, local edits for pull). */
  refused: 7,
  /**
   * An upload source (a file:// folder or gs:// bucket a stage depends on) could not be looked at:
   * `pipe status` cannot call it fresh, and `pipe build` did not start what reads it.
   */
  sourceUnreachable: 8,
  /**
   * Refused: the version is not signed by a key config/trusted-keys/ holds (unsigned, another key,
   * or edited after signing). `pipe pull --accept-untrusted` takes the first two knowingly.
   */
  untrusted: 9,
  /** A bug in pipe: "internal error, please report". */
  internal: 70,
  /** Interrupted by Ctrl-C / SIGINT / SIGTERM (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
