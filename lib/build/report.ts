// Typed events -> what the user sees. The runner and commands emit events; this module alone
// decides their look: text for people (colour only on a TTY outside CI), or one JSON object per
// line for scripts (`--log-format json`). No other core module writes to the terminal.
import { isSourceDep } from '../graph/stage.js';
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
  | { readonly type: 'stage-skipped'; readonly stage: string; readonly failedUpstream: string }
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
      readonly ran: number;
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
    lines.push(`  ... and ${all.length - listed} more (pipe status --json lists every one)`);
  }
  return lines;
}

export function unreachable(value: never): never {
  throw new Error(`internal: unhandled case ${JSON.stringify(value)}`);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function textLine(e: BuildEvent): { stream: 'stdout' | 'stderr'; text: string } | undefined {
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
      return { stream: 'stdout', text: `${e.stage}: fresh` };
    case 'stage-start':
      return {
        stream: 'stdout',
        text: `${e.stage}: running${e.incremental === true ? ' incrementally' : ''} (${e.reasons.map(formatReason).join('; ')})`,
      };
    case 'stage-output':
      return { stream: e.stream, text: `[${e.stage}] ${e.line}` };
    case 'stage-done':
      return {
        stream: 'stdout',
        text: `${e.stage}: done in ${seconds(e.durationMs)}${e.unchanged ? ' (outs unchanged: stages below stay fresh)' : ''}`,
      };
    case 'stage-failed':
      return {
        stream: 'stderr',
        text: [
          `${e.stage}: FAILED: ${e.message}`,
          ...e.tail.map((l) => `  | ${l}`),
          ...(e.log === undefined ? [] : [`  full log: ${e.log}`]),
        ].join('\n'),
      };
    case 'stage-skipped':
      return {
        stream: 'stderr',
        text: `${e.stage}: not run, because upstream stage ${e.failedUpstream} failed`,
      };
    case 'source-unreachable':
      return {
        stream: 'stderr',
        text: `${e.stage}: not run: cannot look at upload source ${e.url}: ${e.why}`,
      };
    case 'stage-pulled':
      return {
        stream: 'stdout',
        // Who pushed and the reasons come from a remote: untrusted text, printed escaped.
        text: `${e.stage}: pulled from version ${e.version} (pushed by ${printable(e.pushedBy)}, signed by ${printable(e.signedBy)}) instead of running: ${e.files} files, ${e.bytes} bytes downloaded in ${seconds(e.durationMs)}`,
      };
    case 'remote-cache-unusable':
      return {
        stream: 'stderr',
        text: `${e.stage}: remote cache not used (${printable(e.reason)})`,
      };
    case 'stage-interrupted':
      return { stream: 'stderr', text: `${e.stage}: interrupted; nothing recorded` };
    case 'summary': {
      const parts = [`${e.ran} ran`, `${e.fresh} fresh`];
      if (e.failed.length > 0) parts.push(`${e.failed.length} failed (${e.failed.join(', ')})`);
      if (e.skipped > 0) parts.push(`${e.skipped} not run`);
      const head = e.interrupted
        ? 'build interrupted'
        : e.failed.length > 0
          ? 'build failed'
          : 'build finished';
      return {
        stream: e.failed.length > 0 || e.interrupted ? 'stderr' : 'stdout',
        text: `${head}: ${parts.join(', ')} in ${seconds(e.durationMs)}`,
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
  return (e) => {
    const line = textLine(e);
    if (line !== undefined) (line.stream === 'stdout' ? out : err).write(`${line.text}\n`);
  };
}
