// `pipe versions diff A B`: per stage, the files B added, removed and changed against A, and the
// record counts before and after. A and B are version IDs, refs (`current`), or `workspace`: the
// outputs pipeline.lock records here (what `pipe push` would publish), so `pipe versions diff
// current workspace` previews a push. The comparison itself is lib/versions/diff.ts.
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';
import { err, ok, type Result } from '../util/result.js';
import type { StageSet } from '../versions/diff.js';
import type { RemoteWorkspace } from './remote-command.js';

interface DiffFlags {
  json?: boolean;
  remote?: string;
  leaveOut?: string[];
}

/** The `--json` document's schema number (docs/versions-diff-json.md). */
export const VERSIONS_DIFF_SCHEMA = 1;

/** The word that names the local outputs; a ref cannot take it (refs are looked up on the remote). */
export const WORKSPACE = 'workspace';

export function defineVersionsDiff(versions: Command, outcome: CommandOutcome): void {
  versions
    .command('diff')
    .description(
      'compare two versions per stage: files added, removed, changed (by sha256), record counts',
    )
    .argument(
      '<a>',
      `the version before: a version ID, a ref such as \`current\`, or \`${WORKSPACE}\``,
    )
    .argument(
      '<b>',
      `the version after: a version ID, a ref, or \`${WORKSPACE}\` (the outputs pipeline.lock records here)`,
    )
    .option('--json', 'print a JSON document (docs/versions-diff-json.md) instead of a table')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .option(
      '--leave-out <stage>',
      'compare without this stage on either side, its file lists unread (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 2 usage, no remote or a malformed version name, 6 unknown version or remote error,\n7 `workspace` whose file lists are missing from .pipe/manifests (rebuild).',
    )
    .action(async (a: string, b: string, _opts: DiffFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await diffCommand(a, b, startFolder(cmd), {
        ...cmd.parent!.opts<DiffFlags>(),
        ...cmd.opts<DiffFlags>(),
      });
    });
}

async function diffCommand(
  a: string,
  b: string,
  start: string,
  flags: DiffFlags,
): Promise<ExitCode> {
  const { openRemoteWorkspace } = await import('./remote-command.js');
  const { diffVersions, formatDiffTable } = await import('../versions/diff.js');
  const opened = await openRemoteWorkspace(start, flags.remote);
  if (!opened.ok) return opened.error;
  const sides: Side[] = [];
  const leaveOut = flags.leaveOut ?? [];
  for (const target of [a, b]) {
    const side = await readSide(opened.value, target, leaveOut);
    if (!side.ok) {
      process.stderr.write(`pipe versions diff: ${side.error.message}\n`);
      return side.error.code;
    }
    sides.push(side.value);
  }
  const [before, after] = sides as [Side, Side];
  const diff = diffVersions(before.stages, after.stages, opened.value.ws.graph.order);
  if (flags.json) {
    const doc = {
      schema: VERSIONS_DIFF_SCHEMA,
      remote: opened.value.remote.url,
      a: before.name,
      b: after.name,
      ...diff,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const { printable } = await import('../util/printable.js');
    const title = `${before.name.label} -> ${after.name.label}`;
    // Stage and record names come from manifests: escaped line by line (the newlines are ours).
    const text = `${title}\n${formatDiffTable(diff, 'A', 'B')}`;
    process.stdout.write(text.split('\n').map(printable).join('\n'));
  }
  return ExitCode.ok;
}

/** One side of the comparison: how to name it (the argument, and the version it resolved to) and its stages. */
interface Side {
  readonly name: { readonly label: string; readonly version: string | null };
  readonly stages: StageSet;
}

/** `leaveOut`: stages neither side holds (the report stage leaves itself out while it runs). */
async function readSide(
  { ws, remote }: RemoteWorkspace,
  target: string,
  leaveOut: readonly string[],
): Promise<Result<Side, { readonly message: string; readonly code: ExitCode }>> {
  if (target === WORKSPACE) {
    const { workspaceStages } = await import('../versions/workspace-stages.js');
    const local = workspaceStages(ws.root, ws.lock, leaveOut);
    if (!local.ok) return err({ message: `workspace: ${local.error}`, code: ExitCode.refused });
    return ok({ name: { label: WORKSPACE, version: null }, stages: local.value });
  }
  const { fetchManifest, resolveVersion } = await import('../versions/fetch.js');
  const { describeVersionError } = await import('../versions/version-error.js');
  const id = await resolveVersion(remote, target);
  const got = id.ok ? await fetchManifest(remote, ws.root, id.value) : id;
  if (got.ok) {
    const label = got.value.id === target ? target : `${target} (${got.value.id})`;
    const stages = Object.entries(got.value.stages).filter(([name]) => !leaveOut.includes(name));
    return ok({ name: { label, version: got.value.id }, stages: Object.fromEntries(stages) });
  }
  const code = got.error.kind === 'invalid' && !id.ok ? ExitCode.usage : ExitCode.remote;
  const hint =
    got.error.kind === 'not-found'
      ? ` ${remote.url}; \`pipe versions\` lists the versions and refs there`
      : '';
  return err({ message: `${describeVersionError(got.error)}${hint}`, code });
}
