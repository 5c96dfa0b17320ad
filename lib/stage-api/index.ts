// The stage API: the one module stage scripts import from pipe (test/house.test.ts fails on any
// other import of lib/ from stages/). Each export is a contract, listed in docs/stage-contract.md
// ("The stage API"): add one only when a stage needs it, and change it as carefully as the CLI.
// Types are exported with the functions whose signatures name them.

export {
  /** The run's context read from the PIPE_* variables: outs, params, metrics. */
  stageContext,
  /** What stageContext returns: temp out paths, declared params, writeMetrics. */
  type StageContext,
  /** An incremental run: each dep's added, modified and deleted files; outs hold the last run's. */
  type IncrementalRun,
  /** One dep's changed files, workspace-relative and sorted. */
  type DepChanges,
} from './context.js';
export {
  /** Configuration layers: flag > environment > config/.env.local > config/.env.base. */
  Config,
  /** A configured value and the layer it came from (for messages). */
  type ConfigValue,
} from '../pipeline/config.js';
export {
  /** pipeline.lock's fingerprint of every other stage, read as docs/lock-file.md documents it. */
  readLockFingerprints,
  /** What readLockFingerprints found: absent, unreadable (why), or the fingerprints. */
  type LockFingerprints,
} from './lock-fingerprints.js';
export {
  /** The outputs against the newest version on PIPE_REMOTE, asked of PIPE_CLI; never throws. */
  compareWithPrevious,
  /** compareWithPrevious's inputs: workspace, own stage, remote URL, GCS endpoint, version. */
  type CompareOptions,
  /** The comparison, or why there is none (no remote, no version yet, unavailable). */
  type VersionComparison,
  /** One stage's files added, removed, changed and unchanged, and its record counts. */
  type StageCounts,
} from './published-version.js';
export {
  /** What a file:// or gs:// URL names, parsed exactly as PIPE_REMOTE is. */
  parseStoreUrl,
  /** One line about a bad file:// or gs:// URL, the subject (setting and value) first. */
  describeStoreUrlError,
  /** A folder, or a GCS bucket and key prefix. */
  type StoreUrl,
  /** Why a URL names no store: unsupported scheme, bad escape, folder, bucket or prefix. */
  type StoreUrlError,
} from '../remote/store-url.js';
export {
  /** A worker entry's compiled module when the stage runs compiled; undefined: start it via tsx. */
  compiledWorkerEntry,
} from './worker-entry.js';
export {
  /** A bounded parallel map with results in input order; rejects on the first error. */
  mapConcurrent,
} from '../util/worker-pool.js';
export {
  /** An expected failure's one shape: `{ ok: true, value } | { ok: false, error }`. */
  type Result,
  /** A success Result. */
  ok,
  /** A failure Result. */
  err,
} from '../util/result.js';
