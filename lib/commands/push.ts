// `pipe push`: publish the workspace's outputs as a new version (see push.ts for the order of
// writes that keeps the remote consistent).
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';

interface PushFlags {
  notes?: string;
  tag: string[];
  setCurrent?: boolean;
  dryRun?: boolean;
  json?: boolean;
  remote?: string;
}

/** The `--json` document's schema version. */
export const PUSH_SCHEMA = 1;

export function definePush(program: Command, outcome: CommandOutcome): void {
  program
    .command('push')
    .description('publish the current outputs as a new version on the remote')
    .option('--notes <text>', 'a note stored with the version (what changed, why)')
    .option(
      '--tag <name>',
      'point this ref at the version too (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('--set-current', 'point the ref `current` at the new version')
    .option('-n, --dry-run', 'say what would be uploaded; write nothing to the remote')
    .option('--json', 'print a JSON document instead of text')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .addHelpText(
      'after',
      '\nRefuses while any stage is stale (run `pipe build` first). Uploads only objects the remote lacks.\n' +
        'Refs move by compare-and-swap: a teammate who moved one first is never overwritten.\n' +
        'Exit codes: 0 ok, 2 usage or no remote configured, 3 invalid pipeline.yaml, 6 remote error, 7 stale stages.',
    )
    .action(async (_opts: PushFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await pushCommand(startFolder(cmd), cmd.opts<PushFlags>());
    });
}

async function pushCommand(start: string, flags: PushFlags): Promise<ExitCode> {
  const { identity, openRemoteWorkspace, transferConcurrency, transferOptions, withBuildMutex } =
    await import('./remote-command.js');
  const { push } = await import('../versions/push.js');
  const { parseRefName } = await import('../remote/remote-path.js');
  const { describeRemoteError } = await import('../remote/remote.js');
  const { formatReason } = await import('../build/report.js');
  const { formatBytes } = await import('../remote/transfer-progress.js');
  const refs = [...(flags.setCurrent ? ['current'] : []), ...flags.tag].map((r) => parseRefName(r));
  const badRef = refs.find((r) => !r.ok);
  if (badRef !== undefined && !badRef.ok) {
    process.stderr.write(`pipe push: --tag ${badRef.error}\n`);
    return ExitCode.usage;
  }
  const opened = await openRemoteWorkspace(start, flags.remote);
  if (!opened.ok) return opened.error;
  const { ws, remote } = opened.value;
  const json = flags.json === true;
  const { pushSigningKey } = await import('../versions/signing-keys.js');
  const signing = pushSigningKey(ws.config);
  if (!signing.ok) {
    process.stderr.write(`pipe push: ${signing.error}\n`);
    return ExitCode.usage;
  }
  return withBuildMutex(ws.root, 'pipe push', async () => {
    const result = await push(ws, remote, {
      notes: flags.notes ?? '',
      refs: refs.flatMap((r) => (r.ok ? [r.value] : [])),
      dryRun: flags.dryRun === true,
      ...identity(ws),
      now: new Date(),
      transfer: transferOptions(json, transferConcurrency(ws, remote)),
      ...(signing.value.key === undefined ? {} : { signer: signing.value.key }),
    });
    switch (result.kind) {
      case 'stale': {
        const lines = result.stages.map(
          (s) => `  ${s.stage}: ${s.reasons.map(formatReason).join('; ') || 'never built'}`,
        );
        process.stderr.write(
          `pipe push: refused: ${result.stages.length} stale ${result.stages.length === 1 ? 'stage' : 'stages'} (${result.stages.map((s) => s.stage).join(', ')}); run \`pipe build\` first\n${lines.join('\n')}\n`,
        );
        return ExitCode.refused;
      }
      case 'nothing-built':
        process.stderr.write(
          'pipe push: refused: no stage has been built yet; run `pipe build` first\n',
        );
        return ExitCode.refused;
      case 'remote-error':
        process.stderr.write(
          `pipe push: failed while ${result.step}: ${describeRemoteError(result.error)}\n`,
        );
        return ExitCode.remote;
      case 'pushed': {
        if (json) {
          const { kind: _kind, ...rest } = result;
          process.stdout.write(
            `${JSON.stringify({ schema: PUSH_SCHEMA, remote: remote.url, ...rest }, null, 2)}\n`,
          );
          return ExitCode.ok;
        }
        const already = result.objects - result.uploaded;
        const what = `${result.files} files, ${result.uploaded} objects ${result.dryRun ? 'to upload' : `uploaded (${formatBytes(result.bytesSent)})`}, ${already} already on the remote`;
        const head = result.dryRun
          ? `would push ${result.unchanged ? `nothing new (same outputs as version ${result.versionId})` : 'a new version'}: ${what}`
          : result.unchanged
            ? `unchanged since version ${result.versionId}: nothing new to publish (${what})`
            : `pushed version ${result.versionId} to ${remote.url}: ${what}`;
        const refLines = result.refs.map((r) =>
          r.result === 'kept'
            ? `${r.ref}: left at ${r.versionId}, which a teammate published after yours`
            : `${r.ref} -> ${r.versionId}${r.result === 'already' ? ' (already)' : ''}`,
        );
        process.stdout.write(`${[head, ...refLines].join('\n')}\n`);
        if (!result.unchanged) {
          const { signatureNote } = await import('../versions/signing-keys.js');
          const note = signatureNote(result.signedWith, signing.value.path);
          (result.signedWith === null ? process.stderr : process.stdout).write(`${note}\n`);
        }
        return ExitCode.ok;
      }
    }
  });
}
