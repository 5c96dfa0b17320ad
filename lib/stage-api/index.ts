// The stage API: the one module stage scripts import from pipe (a test fails on any other import
// of lib/ from stages/). What a stage legitimately needs: its context (docs/stage-contract.md)
// and the configuration layers. Everything here is a stable contract; internals stay behind it.
export { stageContext, type StageContext } from './context.js';
export { Config, type ConfigValue } from '../pipeline/config.js';
export { readLockFingerprints, type LockFingerprints } from './lock-fingerprints.js';
export {
  compareWithPrevious,
  previousVersion,
  type CompareOptions,
  type StageCounts,
  type VersionComparison,
} from './published-version.js';
