// "Compared with version X": what these outputs change against the newest version published on
// PIPE_REMOTE, the same comparison as `pipe versions diff <newest> workspace` (versions/diff.ts).
//
// Why read the remote at run time, and why its state is NOT an input of the report stage:
// a report is built before its push, and a careful reader of version B's page wants "what B
// changed against the version before it", i.e. what this push changes. If the remote's state were
// an input (a dep file mirroring it, or its newest ID hashed into the fingerprint), pushing B would
// make B's own report stale, and rebuilding it would compare B with itself: a cycle like the one
// pipeline.lock would cause (see lock-fingerprints.ts). So the comparison is a snapshot taken when
// the page is built, and the page says so: which version, which remote, when. The remote's
// address (PIPE_REMOTE, which reaches every stage from the config layers) is not an input either,
// for the same reason and because a newcomer switching from the default folder to the team's
// bucket must not find the data stale: `pipe build --force-stage <stage>` re-renders against it.
// A teammate's later push does not make this page stale; it still truthfully says what it
// compared with. Nothing here may fail the report: every failure becomes a sentence on the page.
//
// The comparison itself is the CLI's: `pipe versions --json` and `pipe versions diff <id>
// workspace --json --leave-out <self>` (docs/versions-diff-json.md), run as PIPE_CLI, the pipe that
// runs this stage (docs/stage-contract.md). Importing lib/versions and lib/remote instead would put
// both remote backends, the GCS client and the lock writer into every stage's import closure, so
// editing any of them would re-run every stage. Neither command takes the build mutex the running
// build holds, so this cannot wait on the build that waits on it.
import { spawn } from 'node:child_process';
import { parseVersionId, type VersionId } from '../remote/remote-path.js';

/** One named count before and after; null where that side did not report it. */
export interface RecordChange {
  readonly name: string;
  readonly before: number | null;
  readonly after: number | null;
}

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

/** A stuck remote costs the build this long at most, then the page says it timed out. */
const CLI_TIMEOUT_MS = 120_000;

export async function compareWithPrevious(o: CompareOptions): Promise<VersionComparison> {
  if (o.remoteUrl === undefined || o.remoteUrl === '') return { status: 'no-remote' };
  const remoteUrl = o.remoteUrl;
  const unavailable = (reason: string): VersionComparison => ({
    status: 'unavailable',
    remote: remoteUrl,
    reason,
  });
  try {
    const cli = process.env.PIPE_CLI;
    if (cli === undefined || cli === '') {
      return unavailable('PIPE_CLI is not set: this stage was not started by `npx pipe build`');
    }
    const pipe = (...args: string[]) => runPipe(cli, o, args);
    const listed = await pipe('versions', '--json');
    // Exit 6 with a document: some manifest is unreadable; the document names it under `unreadable`.
    const list = parseJson<VersionList>(listed.stdout);
    if (list === undefined || !Array.isArray(list.versions)) return unavailable(failure(listed));
    const unreadable = new Map(
      (list.unreadable ?? []).map((line) => [line.slice(0, line.indexOf(':')), line]),
    );
    const ids = [...list.versions.map((v) => v.id), ...unreadable.keys()] as VersionId[];
    const previous = previousVersion(ids, o.version);
    if (previous === undefined) return { status: 'no-previous', remote: remoteUrl };
    const broken = unreadable.get(previous);
    if (broken !== undefined) return unavailable(`reading version ${broken}`);
    const meta = list.versions.find((v) => v.id === previous)!;
    const diffed = await pipe(
      'versions',
      'diff',
      previous,
      'workspace',
      '--json',
      '--leave-out',
      o.self,
    );
    const diff = diffed.code === 0 ? parseJson<DiffDocument>(diffed.stdout) : undefined;
    if (diff === undefined || !Array.isArray(diff.stages)) return unavailable(failure(diffed));
    const stages: StageCounts[] = diff.stages
      .filter((s) => s.stage !== o.self)
      .map((s) => ({
        stage: s.stage,
        status: s.status,
        added: s.added.length,
        removed: s.removed.length,
        changed: s.changed.length,
        unchanged: s.unchanged,
        records: s.records,
      }));
    const sum = (pick: (s: StageCounts) => number) => stages.reduce((t, s) => t + pick(s), 0);
    return {
      status: 'compared',
      remote: remoteUrl,
      previous: { id: previous, pushed_by: meta.pushedBy, pushed_at: meta.pushedAt },
      stages,
      totals: {
        added: sum((s) => s.added),
        removed: sum((s) => s.removed),
        changed: sum((s) => s.changed),
        unchanged: sum((s) => s.unchanged),
      },
    };
  } catch (error) {
    return unavailable((error as Error).message);
  }
}

/** The part of `pipe versions --json` read here. */
interface VersionList {
  readonly versions: readonly { id: string; pushedBy: string; pushedAt: string }[];
  /** `<id>: <why>` per version whose manifest could not be read. */
  readonly unreadable?: readonly string[];
}

/** The part of `pipe versions diff --json` read here (docs/versions-diff-json.md, schema 1). */
interface DiffDocument {
  readonly stages: readonly {
    readonly stage: string;
    readonly status: StageCounts['status'];
    readonly added: readonly string[];
    readonly removed: readonly string[];
    readonly changed: readonly string[];
    readonly unchanged: number;
    readonly records: readonly RecordChange[];
  }[];
}

interface PipeRun {
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `<node> $PIPE_CLI -C <workspace> ...args`, with this stage's remote and GCS endpoint. stdin is
 * closed and both streams are read to the end, so the child can never block on a full pipe.
 */
function runPipe(cli: string, o: CompareOptions, args: readonly string[]): Promise<PipeRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, PIPE_REMOTE: o.remoteUrl };
  if (o.gcsEndpoint) env.PIPE_GCS_ENDPOINT = o.gcsEndpoint;
  else delete env.PIPE_GCS_ENDPOINT;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, '-C', o.workspace, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: CLI_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const timedOut = signal === 'SIGTERM' && code === null;
      resolve({
        args,
        code,
        stdout,
        stderr: timedOut ? `no answer within ${CLI_TIMEOUT_MS / 1000} s` : stderr,
      });
    });
  });
}

/** Why a run gave no usable document: its last stderr line, named by the command. */
function failure(run: PipeRun): string {
  const last = run.stderr.trim().split('\n').at(-1)?.trim();
  const why = last ? last : `exit code ${run.code}, no document on stdout`;
  return `\`pipe ${run.args.join(' ')}\` failed: ${why}`;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
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
