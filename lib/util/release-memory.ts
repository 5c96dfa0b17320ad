// Before a stage starts, the runner gives back the memory its observations used. At 241,605
// uploads, hashing a folder leaves hundreds of MB of garbage in the runner's heap; V8 collects it
// on its own schedule, which for a process that then sits idle for minutes (waiting on a stage
// with DuckDB inside) may be never, and the benchmark's peak sums the RSS of both processes.
// A full collection here costs ~10-50 ms, once per stage that runs from scratch (runner.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function releaseMemory(): void {
  if (gc === undefined) {
    // `gc` exists only in contexts created after --expose-gc is set.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
