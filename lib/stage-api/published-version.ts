// "Compared with version X": what these outputs change against the newest version published on
// PIPE_REMOTE, the same comparison as `pipe versions diff <newest> workspace` (versions/diff.ts).
//
// Why read the remote at run time, and why its state is NOT an input of the report stage:
// a report is built before its push, and a careful reader of version B's page wants "what B
// changed against the version before it", i.e. what this push changes. If the remote's state were
// an input (a dep file mirroring it, or its newest ID hashed into the fingerprint), pushing B would
// make B's own report stale, and rebuilding it would compare B with itself: a cycle like the one
// pipeline.lock would cause (see lock-fingerprints.ts). So the comparison is a snapshot taken when
// the page is built, and the page says so: which version, which remote, when. A stage that calls
// this should declare PIPE_REMOTE as an env input (the keystroke report does): pointing the
// workspace at another remote then re-renders the page.
// A teammate's later push does not make this page stale; it still truthfully says what it
// compared with. Nothing here may fail the report: every failure becomes a sentence on the page.
import { readLock } from '../build/lockfile.js';
import { openRemote } from '../remote/open.js';
import { parseVersionId, type VersionId } from '../remote/remote-path.js';
import { diffVersions, type RecordChange, type StageSet } from '../versions/diff.js';
import { parseManifest } from '../versions/manifest.js';
import { workspaceStages } from '../versions/workspace-stages.js';

export interface StageCounts {
  readonly stage: string;
  readonly status: 'added' | 'removed' | 'changed' | 'same';
  readonly added: number;
  readonly removed: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly records: readonly RecordChange[];
}

export type VersionComparison =
  | {
      readonly status: 'compared';
      readonly remote: string;
      readonly previous: {
        readonly id: string;
        readonly pushed_by: string;
        readonly pushed_at: string;
      };
      readonly stages: readonly StageCounts[];
      readonly totals: {
        readonly added: number;
        readonly removed: number;
        readonly changed: number;
        readonly unchanged: number;
      };
    }
  | { readonly status: 'no-remote' }
  | { readonly status: 'no-previous'; readonly remote: string }
  | { readonly status: 'unavailable'; readonly remote: string; readonly reason: string };

export interface CompareOptions {
  readonly workspace: string;
  /** This stage's name: its own outputs are being written, so both sides leave it out. */
  readonly self: string;
  /** PIPE_REMOTE, PIPE_GCS_ENDPOINT and PIPE_VERSION from the stage's environment. */
  readonly remoteUrl: string | undefined;
  readonly gcsEndpoint: string | undefined;
  readonly version: string | undefined;
}

export async function compareWithPrevious(o: CompareOptions): Promise<VersionComparison> {
  if (o.remoteUrl === undefined || o.remoteUrl === '') return { status: 'no-remote' };
  const remoteUrl = o.remoteUrl;
  const unavailable = (reason: string): VersionComparison => ({
    status: 'unavailable',
    remote: remoteUrl,
    reason,
  });
  try {
    // One retry: an unreachable remote costs a few seconds of the build, not a minute.
    const opened = await openRemote(remoteUrl, {
      workspace: o.workspace,
      maxRetries: 1,
      ...(o.gcsEndpoint ? { gcsEndpoint: o.gcsEndpoint } : {}),
    });
    if (!opened.ok) return unavailable(opened.error);
    const remote = opened.value;
    const listed = await remote.listVersions();
    if (!listed.ok) return unavailable(`listing versions failed (${listed.error.kind})`);
    const previous = previousVersion(listed.value, o.version);
    if (previous === undefined) return { status: 'no-previous', remote: remoteUrl };
    // Read directly, not through versions/fetch.ts: a stage writes only its outs, not .pipe/.
    const text = await remote.getManifest(previous);
    if (!text.ok) return unavailable(`reading version ${previous} failed (${text.error.kind})`);
    const manifest = parseManifest(previous, text.value);
    if (!manifest.ok) return unavailable(manifest.error);
    const lock = readLock(o.workspace);
    if (!lock.ok) return unavailable(lock.message);
    const here = workspaceStages(o.workspace, lock.value, [o.self]);
    if (!here.ok) return unavailable(here.error);
    // A manifest lists its stages in the pipeline's order (push walks the graph): read it that way.
    const diff = diffVersions(
      without(manifest.value.stages, o.self),
      here.value,
      Object.keys(manifest.value.stages),
    );
    return {
      status: 'compared',
      remote: remoteUrl,
      previous: {
        id: previous,
        pushed_by: manifest.value.pushedBy,
        pushed_at: manifest.value.pushedAt,
      },
      stages: diff.stages.map((s) => ({
        stage: s.stage,
        status: s.status,
        added: s.added.length,
        removed: s.removed.length,
        changed: s.changed.length,
        unchanged: s.unchanged,
        records: s.records,
      })),
      totals: diff.totals,
    };
  } catch (error) {
    return unavailable((error as Error).message);
  }
}

/**
 * The newest version on the remote; when this report is built for a published version
 * (PIPE_VERSION is a version ID), the newest one before it, so a version's page never compares
 * with itself or with what came later. IDs sort by UTC time (remote.ts listVersions).
 */
export function previousVersion(
  ids: readonly VersionId[],
  version: string | undefined,
): VersionId | undefined {
  const own = version === undefined ? undefined : parseVersionId(version);
  const before = own?.ok ? ids.filter((id) => id < own.value) : ids;
  return [...before].sort().at(-1);
}

function without(stages: StageSet, name: string): StageSet {
  return Object.fromEntries(Object.entries(stages).filter(([n]) => n !== name));
}
