// Which parts a per-part stage (keypairs, features) must (re)do, from the runner's list of changed
// dep files (docs/stage-contract.md, "Incremental stages"). An incremental run is trusted only
// when the previous outputs in the out folder are exactly what the changes say they should be; any
// doubt (no bookkeeping, a part the changes do not explain, the single-file input before parts)
// makes it a full run from an empty out folder, which is always correct, only slower.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IncrementalRun } from '../../lib/stage-api/index.js';
import { changedParts, type Part, replaceFile, sameIds, tableParts } from './parts.js';

/** Per-part record counts, by part id: a stage's bookkeeping, so unchanged parts are never reread. */
export type PartCounts<C> = Map<string, C>;

export interface PartPlanInput<C> {
  readonly incremental: IncrementalRun | null;
  /** The dep as pipeline.yaml declares it, e.g. `data/clean`. */
  readonly dep: string;
  /** The input table folder inside it, e.g. `data/clean/keystrokes`. */
  readonly inputTable: string;
  readonly inputs: readonly Part[];
  /** The stage's temp out folder. */
  readonly out: string;
  /** Folders under `out` holding one `<part>.parquet` per input part. */
  readonly outTables: readonly string[];
  /** Those of outTables whose parts may also have added files (`<part>+<n>.parquet`). */
  readonly tablesWithAdded?: readonly string[];
  /** The previous run's per-part counts, or null when absent or unreadable. */
  readonly previous: () => PartCounts<C> | null;
}

export interface PartPlan<C> {
  /** True when only the changed parts are redone. */
  readonly incremental: boolean;
  /** The input parts to (re)do. */
  readonly redo: readonly Part[];
  /** Part ids whose outputs (and counts) are to be deleted. */
  readonly drop: readonly string[];
  /** The previous counts of the parts kept (all parts for a full run start empty). */
  readonly counts: PartCounts<C>;
}

export function planParts<C>(input: PartPlanInput<C>): PartPlan<C> {
  const full = (): PartPlan<C> => {
    // A full run starts from an empty out folder: an offered incremental run filled it with links.
    rmSync(input.out, { recursive: true, force: true });
    return { incremental: false, redo: input.inputs, drop: [], counts: new Map() };
  };
  const changes = input.incremental?.deps[input.dep];
  if (changes === undefined) return full();
  const counts = input.previous();
  if (counts === null) return full();
  const previousIds = new Set(counts.keys());
  for (const table of input.outTables) {
    const written = tableParts(input.out, table, input.tablesWithAdded?.includes(table));
    if (!written.ok) return full();
    const whole = written.parts.filter((p) => p.added === undefined);
    if (!sameIds(new Set(whole.map((p) => p.id)), previousIds)) return full();
  }
  const { changed, deleted } = changedParts(changes, input.inputTable);
  const expected = new Set([...previousIds].filter((id) => !deleted.has(id)));
  for (const id of changed) expected.add(id);
  const current = new Set(input.inputs.map((p) => p.id));
  if (!sameIds(current, expected) || [...deleted].some((id) => !previousIds.has(id))) return full();
  return {
    incremental: true,
    redo: input.inputs.filter((p) => changed.has(p.id)),
    drop: [...deleted],
    counts,
  };
}

/** The counts file as a map, or null when it is absent or not an object of objects. */
export function readPartCounts<C>(path: string): PartCounts<C> | null {
  if (!existsSync(path)) return null;
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    return new Map(Object.entries(value as Record<string, C>));
  } catch {
    return null;
  }
}

/** Writes the counts sorted by part id (replacing, never writing into, the previous file). */
export function writePartCounts<C>(path: string, counts: PartCounts<C>): void {
  const sorted = Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
  replaceFile(path, `${JSON.stringify(sorted, null, 1)}\n`);
}

/** The folder a table's parts are in, under a stage's out folder. */
export function partFile(out: string, table: string, id: string): string {
  return join(out, table, `${id}.parquet`);
}
