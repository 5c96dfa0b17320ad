// What changed between two versions, stage by stage: files added, removed and changed (matched by
// path, compared by sha256), how many stayed the same, and the record counts each stage reported
// (its PIPE_METRICS_FILE, kept in the lock entry) before and after. Pure: two sets of stages in,
// one diff out. `pipe versions diff` and the report stage both use it, so they cannot disagree.
// The JSON shape is documented in docs/versions-diff-json.md.
import type { VersionFile, VersionStage } from './manifest.js';

/** What one side of a comparison holds: a published manifest's stages, or the workspace's. */
export type StageSet = Readonly<Record<string, Pick<VersionStage, 'lock' | 'files'>>>;

/** One named count before and after; null where that side did not report it. */
export interface RecordChange {
  readonly name: string;
  readonly before: number | null;
  readonly after: number | null;
}

export interface StageDiff {
  readonly stage: string;
  /** `added`: only in B; `removed`: only in A; `same`: identical files; `changed`: otherwise. */
  readonly status: 'added' | 'removed' | 'changed' | 'same';
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
  readonly unchanged: number;
  readonly records: readonly RecordChange[];
}

export interface VersionDiff {
  readonly stages: readonly StageDiff[];
  /** Sums over every stage. */
  readonly totals: {
    readonly added: number;
    readonly removed: number;
    readonly changed: number;
    readonly unchanged: number;
  };
}

/**
 * Compares `a` (before) with `b` (after). Stages in `order` first (the pipeline's, upstream
 * first, so the table reads like the graph), then B's other stages, then those only in A.
 */
export function diffVersions(a: StageSet, b: StageSet, order: readonly string[] = []): VersionDiff {
  const all = [...order, ...Object.keys(b), ...Object.keys(a)];
  const names = [...new Set(all)].filter((n) => n in a || n in b);
  const stages = names.map((name) => diffStage(name, a[name], b[name]));
  const sum = (pick: (s: StageDiff) => number) => stages.reduce((total, s) => total + pick(s), 0);
  return {
    stages,
    totals: {
      added: sum((s) => s.added.length),
      removed: sum((s) => s.removed.length),
      changed: sum((s) => s.changed.length),
      unchanged: sum((s) => s.unchanged),
    },
  };
}

function diffStage(
  stage: string,
  a: StageSet[string] | undefined,
  b: StageSet[string] | undefined,
): StageDiff {
  const before = new Map((a?.files ?? []).map((f: VersionFile) => [f.path, f.sha256]));
  const after = new Map((b?.files ?? []).map((f: VersionFile) => [f.path, f.sha256]));
  const added = [...after.keys()].filter((p) => !before.has(p)).sort();
  const removed = [...before.keys()].filter((p) => !after.has(p)).sort();
  const both = [...after.keys()].filter((p) => before.has(p));
  const changed = both.filter((p) => before.get(p) !== after.get(p)).sort();
  const status =
    a === undefined
      ? 'added'
      : b === undefined
        ? 'removed'
        : added.length + removed.length + changed.length === 0
          ? 'same'
          : 'changed';
  return {
    stage,
    status,
    added,
    removed,
    changed,
    unchanged: both.length - changed.length,
    records: recordChanges(recordCounts(a?.lock.metrics), recordCounts(b?.lock.metrics)),
  };
}

/**
 * The counts a stage reported. The stages write `{ records: { name: n, ... } }`; a bare
 * `{ records: n }` is the count `records`. Anything that is not a number is not a count.
 */
export function recordCounts(
  metrics: Readonly<Record<string, unknown>> | undefined,
): Map<string, number> {
  const counts = new Map<string, number>();
  const records = metrics?.records;
  if (typeof records === 'number') counts.set('records', records);
  else if (typeof records === 'object' && records !== null) {
    for (const [name, n] of Object.entries(records)) if (typeof n === 'number') counts.set(name, n);
  }
  return counts;
}

function recordChanges(before: Map<string, number>, after: Map<string, number>): RecordChange[] {
  const names = [...after.keys(), ...[...before.keys()].filter((n) => !after.has(n))];
  return names.map((name) => ({
    name,
    before: before.get(name) ?? null,
    after: after.get(name) ?? null,
  }));
}

/** `3 -> 5` per count, `-` for a side without it; '' when the stage reported no counts. */
export function formatRecords(records: readonly RecordChange[]): string {
  const n = (v: number | null) => (v === null ? '-' : String(v));
  return records.map((r) => `${r.name} ${n(r.before)} -> ${n(r.after)}`).join(', ');
}

/** The readable table: one row per stage, then the totals. */
export function formatDiffTable(diff: VersionDiff, labelA: string, labelB: string): string {
  const header = [
    'stage',
    'added',
    'removed',
    'changed',
    'unchanged',
    `records (${labelA} -> ${labelB})`,
  ];
  const rows = diff.stages.map((s) => [
    s.status === 'same' || s.status === 'changed'
      ? s.stage
      : `${s.stage} (${s.status === 'added' ? 'new stage' : 'stage gone'})`,
    String(s.added.length),
    String(s.removed.length),
    String(s.changed.length),
    String(s.unchanged),
    formatRecords(s.records),
  ]);
  const t = diff.totals;
  rows.push([
    'total',
    String(t.added),
    String(t.removed),
    String(t.changed),
    String(t.unchanged),
    '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) =>
        i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
