// Typed events -> what the user sees. The runner and commands emit events; this module alone
// decides their look: text for people (colour only on a TTY outside CI), or one JSON object per
// line for scripts (`--log-format json`). No other core module writes to the terminal.
import { isSourceDep } from '../graph/stage.js';
import { formatBytes } from '../util/bytes.js';
import { paintFor, type Paint } from '../util/colour.js';
import type { MutexHolder } from './mutex.js';
import type { StaleReason } from './plan.js';
import { printable } from '../util/printable.js';

export type BuildEvent =
  | { readonly type: 'mutex-wait'; readonly holder: MutexHolder }
  | { readonly type: 'mutex-takeover'; readonly holder: MutexHolder }
  /** `--dry-run`: a stage that would run, and why (empty reasons: it is fresh). */
  | { readonly type: 'plan'; readonly stage: string; readonly reasons: readonly StaleReason[] }
  | { readonly type: 'stage-fresh'; readonly stage: string }
  | {
      readonly type: 'stage-start';
      readonly stage: string;
      readonly reasons: readonly StaleReason[];
      /** The stage updates its previous outputs with the changed dep files (incremental.ts). */
      readonly incremental?: boolean;
    }
  | {
      readonly type: 'stage-output';
      readonly stage: string;
      readonly stream: 'stdout' | 'stderr';
      readonly line: string;
    }
  /** `unchanged`: the outs hashed as before, so stages below stay fresh (early cutoff). */
  | {
      readonly type: 'stage-done';
      readonly stage: string;
      readonly durationMs: number;
      readonly unchanged: boolean;
    }
  | {
      readonly type: 'stage-failed';
      readonly stage: string;
      readonly message: string;
      /** Workspace-relative path of the stage's log; absent when the script never started. */
      readonly log?: string;
      /** The last lines of the stage's stderr, capped. */
      readonly tail: readonly string[];
    }
  /** `failedUpstream`: the stage that failed (not a skipped one between); `via`: the upstream read. */
  | {
      readonly type: 'stage-skipped';
      readonly stage: string;
      readonly failedUpstream: string;
      readonly via?: string;
    }
  /** Not started because `failed` failed first (without --keep-going no new stage starts). */
  | { readonly type: 'stage-not-started'; readonly stage: string; readonly failed: string }
  /** An upload source of the stage could not be looked at: the stage was not started. */
  | {
      readonly type: 'source-unreachable';
      readonly stage: string;
      readonly url: string;
      readonly why: string;
    }
  /** The remote build cache supplied the outs: pulled from `version` instead of running. */
  | {
      readonly type: 'stage-pulled';
      readonly stage: string;
      readonly version: string;
      readonly pushedBy: string;
      readonly signedBy: string;
      readonly files: number;
      readonly bytes: number;
      readonly durationMs: number;
    }
  /** The remote build cache could not help (unreachable, refused, bad data): the stage runs locally. */
  | { readonly type: 'remote-cache-unusable'; readonly stage: string; readonly reason: string }
  | { readonly type: 'stage-interrupted'; readonly stage: string }
  | {
      readonly type: 'summary';
      /** Stages run here (pulled ones not counted). */
      readonly ran: number;
      /** Stages whose outputs the remote build cache supplied instead of running them. */
      readonly pulled?: number;
      readonly fresh: number;
      readonly failed: readonly string[];
      readonly skipped: number;
      readonly interrupted: boolean;
      readonly durationMs: number;
    };

export type Reporter = (event: BuildEvent) => void;

export type LogFormat = 'text' | 'json';

function quote(v: unknown): string {
  return v === undefined ? '(unset)' : JSON.stringify(v);
}

/** One reason as a short English phrase; exhaustive, so a new reason cannot go unprinted. */
export function formatReason(r: StaleReason): string {
  const inside = (file: string | undefined): string => (file === undefined ? '' : ` (${file})`);
  switch (r.kind) {
    case 'never-built':
      return 'never built';
    case 'forced':
      return 'forced';
    case 'definition-changed':
      return 'stage definition changed in pipeline.yaml';
    case 'code-changed':
      return `code changed: ${r.path}`;
    case 'package-changed':
      return `package changed: ${r.name} ${r.from ?? '(none)'} -> ${r.to ?? '(none)'}`;
    case 'param-changed':
      return `param changed: ${r.key} ${quote(r.from)} -> ${quote(r.to)}`;
    case 'env-changed':
      return `env changed: ${r.name}`;
    case 'dep-added':
      if (r.file !== undefined && isSourceDep(r.path)) return `dep added: ${r.file}`;
      return r.file === undefined
        ? `dep added: ${r.path}`
        : `dep file added: ${r.file} in ${r.path}`;
    case 'dep-modified':
      if (r.file !== undefined && isSourceDep(r.path)) return `dep modified: ${r.file}`;
      return r.file === undefined
        ? `dep modified: ${r.path}`
        : `dep file modified: ${r.file} in ${r.path}`;
    case 'dep-deleted':
      if (r.file !== undefined && isSourceDep(r.path)) return `dep deleted: ${r.file}`;
      return r.file === undefined
        ? `dep deleted: ${r.path}`
        : `dep file deleted: ${r.file} in ${r.path}`;
    case 'source-unreachable':
      return `cannot look at upload source ${r.url}${r.url === r.path ? '' : ` (${r.path})`}: ${r.why}`;
    case 'out-missing':
      return `out missing: ${r.path}`;
    case 'out-modified':
      return `out modified by hand: ${r.path}${inside(r.file)}`;
    case 'upstream-stale':
      return `upstream stale: ${r.stage}`;
    default:
      return unreachable(r);
  }
}

/**
 * The reasons as lines, where a dep with more than `listed` changed files becomes one count line
 * ("3 uploads added, 1 deleted in gs://b/uploads") followed by the first `listed` of them and how
 * many more there are. An upload source's files are "uploads", a folder's or glob's "files".
 */
export function collapseFileChanges(
  reasons: readonly StaleReason[],
  format: (r: StaleReason) => string,
  listed: number,
): string[] {
  type FileReason = Extract<StaleReason, { kind: 'dep-added' | 'dep-modified' | 'dep-deleted' }>;
  const isFile = (r: StaleReason): r is FileReason =>
    (r.kind === 'dep-added' || r.kind === 'dep-modified' || r.kind === 'dep-deleted') &&
    r.file !== undefined;
  const byDep = new Map<string, FileReason[]>();
  for (const r of reasons.filter(isFile)) byDep.set(r.path, [...(byDep.get(r.path) ?? []), r]);
  const lines: string[] = [];
  const done = new Set<string>();
  for (const r of reasons) {
    if (!isFile(r) || (byDep.get(r.path)?.length ?? 0) <= listed) {
      lines.push(format(r));
      continue;
    }
    if (done.has(r.path)) continue;
    done.add(r.path);
    const all = byDep.get(r.path)!;
    const noun = isSourceDep(r.path) ? 'uploads' : 'files';
    const counts = (['added', 'modified', 'deleted'] as const)
      .map((change) => [change, all.filter((x) => x.kind === `dep-${change}`).length] as const)
      .filter(([, n]) => n > 0)
      .map(([change, n], i) => (i === 0 ? `${n} ${noun} ${change}` : `${n} ${change}`));
    lines.push(`${counts.join(', ')} in ${r.path}:`);
    for (const x of all.slice(0, listed)) lines.push(`  ${format(x)}`);
    lines.push(
      `  ... and ${all.length - listed} more (\`npx pipe status --json\` lists every one)`,
    );
  }
  return lines;
}

export function unreachable(value: never): never {
  throw new Error(`internal: unhandled case ${JSON.stringify(value)}`);
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** Where the remote build cache could not help at all (said once, for the whole build). */
const WHOLE_REMOTE = /; stale stages run locally$/;

/** `o` paints stdout, `x` stderr; `streamed`: stages whose output lines were shown. */
function textLine(
  e: BuildEvent,
  o: Paint,
  x: Paint,
  streamed: ReadonlySet<string>,
): { stream: 'stdout' | 'stderr'; text: string } | undefined {
  switch (e.type) {
    case 'mutex-wait':
      return {
        stream: 'stderr',
        text: `waiting for the build mutex: pid ${e.holder.pid} on ${e.holder.host} (${e.holder.command}) holds it since ${e.holder.since}`,
      };
    case 'mutex-takeover':
      return {
        stream: 'stderr',
        text: `took over the build mutex left by pid ${e.holder.pid} (no longer running)`,
      };
    case 'plan':
      return {
        stream: 'stdout',
        text:
          e.reasons.length === 0
            ? `${e.stage}: fresh`
            : `${e.stage}: would run (${e.reasons.map(formatReason).join('; ')})`,
      };
    case 'stage-fresh':
      return { stream: 'stdout', text: `${e.stage}: ${o.dim('fresh')}` };
    case 'stage-start':
      return {
        stream: 'stdout',
        text: `${o.bold(e.stage)}: running${e.incremental === true ? ' incrementally' : ''} (${e.reasons.map(formatReason).join('; ')})`,
      };
    case 'stage-output':
      return { stream: e.stream, text: `[${e.stage}] ${e.line}` };
    case 'stage-done':
      return {
        stream: 'stdout',
        text: `${e.stage}: ${o.green('done')} in ${seconds(e.durationMs)}${e.unchanged ? ' (outs unchanged: stages below stay fresh)' : ''}`,
      };
    case 'stage-failed':
      return {
        stream: 'stderr',
        // Output already shown line by line ([stage] ...) is not repeated: the log has it all.
        text: [
          `${e.stage}: ${x.red('FAILED')}: ${e.message}`,
          ...(streamed.has(e.stage) ? [] : e.tail.map((l) => `  | ${l}`)),
          ...(e.log === undefined ? [] : [`  full log: ${e.log}`]),
        ].join('\n'),
      };
    case 'stage-skipped':
      return {
        stream: 'stderr',
        text: `${e.stage}: ${x.yellow('not run')}, because stage ${e.failedUpstream} failed${e.via === undefined || e.via === e.failedUpstream ? '' : ` (it reads ${e.via}, which did not run)`}`,
      };
    case 'stage-not-started':
      return {
        stream: 'stderr',
        text: `${e.stage}: ${x.yellow('not started')}: stage ${e.failed} failed first (--keep-going runs what does not read from it)`,
      };
    case 'source-unreachable':
      return {
        stream: 'stderr',
        text: `${e.stage}: ${x.red('not run')}: cannot look at upload source ${e.url}: ${e.why}`,
      };
    case 'stage-pulled':
      return {
        stream: 'stdout',
        // Who pushed and the reasons come from a remote: untrusted text, printed escaped.
        text: `${e.stage}: ${o.green('pulled')} from version ${e.version}, pushed by ${printable(e.pushedBy)}, signed by ${printable(e.signedBy)}, instead of running: ${plural(e.files, 'file')}, ${formatBytes(e.bytes)} in ${seconds(e.durationMs)}`,
      };
    case 'remote-cache-unusable':
      return {
        stream: 'stderr',
        text: WHOLE_REMOTE.test(e.reason)
          ? `${x.yellow('remote cache not used')}: ${printable(e.reason)}`
          : `${e.stage}: ${x.yellow('remote cache not used')}: ${printable(e.reason)}`,
      };
    case 'stage-interrupted':
      return { stream: 'stderr', text: `${e.stage}: interrupted; nothing recorded` };
    case 'summary': {
      const parts = [`${e.ran} ran`];
      if ((e.pulled ?? 0) > 0) parts.push(`${e.pulled} pulled from the remote cache`);
      parts.push(`${e.fresh} fresh`);
      if (e.failed.length > 0) parts.push(`${e.failed.length} failed (${e.failed.join(', ')})`);
      if (e.skipped > 0) parts.push(`${e.skipped} not run`);
      const head = e.interrupted
        ? 'build interrupted'
        : e.failed.length > 0
          ? 'build failed'
          : 'build finished';
      const bad = e.failed.length > 0 || e.interrupted;
      return {
        stream: bad ? 'stderr' : 'stdout',
        text: `${bad ? x.red(head) : o.bold(head)}: ${parts.join(', ')} in ${seconds(e.durationMs)}`,
      };
    }
    default:
      return unreachable(e);
  }
}

export function createReporter(
  format: LogFormat,
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Reporter {
  if (format === 'json') {
    return (e) => {
      out.write(`${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`);
    };
  }
  const o = paintFor(out as NodeJS.WriteStream);
  const x = paintFor(err as NodeJS.WriteStream);
  const streamed = new Set<string>();
  return (e) => {
    if (e.type === 'stage-output') streamed.add(e.stage);
    const line = textLine(e, o, x, streamed);
    if (line !== undefined) (line.stream === 'stdout' ? out : err).write(`${line.text}\n`);
  };
}
