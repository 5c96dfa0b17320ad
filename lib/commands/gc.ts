// `pipe gc`: removes what nothing needs any more, older than a grace period.
//
// Local (always): `.pipe/manifests/<sha>.{txt,json}` (the file lists behind folder hashes) that
// pipeline.lock no longer names; each build adds one per changed folder, so they grow forever.
// And `.pipe/compiled/<key>/` trees (TypeScript stages compiled, build/compiled-stage.ts) that no
// stage's code in pipeline.lock was compiled from: each code edit adds one.
// Remote (--remote): objects that no version on the remote names. Versions are never deleted, so
// nothing a ref or a version needs is touched; a version that cannot be read stops the remote
// part (what it needs is unknown). The grace period covers a push in flight: it uploads objects
// before the manifest that names them, so a young unreferenced object is kept.
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';

interface GcFlags {
  dryRun?: boolean;
  grace: number;
  remote?: string | boolean;
  json?: boolean;
}

export const GC_SCHEMA = 1;
const HOUR = 3600_000;

/** `30m`, `12h`, `7d` (or a bare number of hours) -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(m|h|d)?$/.exec(text.trim());
  if (m === null) throw new InvalidArgumentError('a duration like 30m, 12h or 7d');
  const unit = { m: 60_000, h: HOUR, d: 24 * HOUR }[(m[2] ?? 'h') as 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

export function defineGc(program: Command, outcome: CommandOutcome): void {
  program
    .command('gc')
    .description('remove local caches and remote objects nothing needs, older than a grace period')
    .option('-n, --dry-run', 'say what would be removed; remove nothing')
    .option(
      '--grace <duration>',
      'keep anything younger than this (30m, 12h, 7d)',
      parseDuration,
      24 * HOUR,
    )
    .option(
      '--remote [url]',
      'also remove objects no version on the remote names (default remote: PIPE_REMOTE)',
    )
    .option('--json', 'print a JSON document instead of text')
    .addHelpText(
      'after',
      '\nLocal: .pipe/manifests entries pipeline.lock does not name, and .pipe/compiled trees of code it\n' +
        'does not record. Remote: objects no version names.\n' +
        'Versions and refs are never deleted. Run it when no push is in flight on the remote.\n' +
        'Exit codes: 0 ok, 2 usage, 3 invalid pipeline.yaml, 5 busy, 6 remote error.',
    )
    .action(async (_o: GcFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await gcCommand(startFolder(cmd), cmd.opts<GcFlags>());
    });
}

async function gcCommand(start: string, flags: GcFlags): Promise<ExitCode> {
  const { loadBuildState } = await import('../build/build-state.js');
  const { withBuildMutex } = await import('./remote-command.js');
  const opened = await loadBuildState(start, process.stderr);
  if (!opened.ok) return opened.code;
  const ws = opened.value;
  const now = Date.now();
  const dryRun = flags.dryRun === true;
  return withBuildMutex(ws.root, 'pipe gc', async () => {
    const { collectLocal } = await import('../versions/gc.js');
    const local = await collectLocal(ws.root, ws.lock, { now, graceMs: flags.grace, dryRun });
    const { collectCompiled } = await import('../build/compiled-gc.js');
    const compiled = await collectCompiled(ws.root, ws.lock, {
      now,
      graceMs: flags.grace,
      dryRun,
    });
    let remote: Awaited<ReturnType<typeof import('../versions/gc.js').collectRemote>> | undefined;
    if (flags.remote !== undefined && flags.remote !== false) {
      const { openConfiguredRemote } = await import('../remote/open.js');
      const url = typeof flags.remote === 'string' ? flags.remote : undefined;
      const r = await openConfiguredRemote(ws.config, ws.root, url);
      if (!r.ok) {
        process.stderr.write(`pipe gc: ${r.error}\n`);
        return ExitCode.usage;
      }
      const { collectRemote } = await import('../versions/gc.js');
      remote = await collectRemote(r.value, ws.root, { now, graceMs: flags.grace, dryRun });
      if (!remote.ok) {
        process.stderr.write(`pipe gc: ${remote.error}\n`);
        return ExitCode.remote;
      }
      // Temp files of killed pushes (the workspace's own went when this command took the mutex).
      if (!dryRun) {
        const { removeDebris } = await import('./debris.js');
        const { describeRemoteError } = await import('../remote/remote.js');
        const swept = await removeDebris(ws.root, r.value, flags.grace);
        if (swept.remote !== undefined && !swept.remote.ok)
          process.stderr.write(
            `pipe gc: remote temp files not swept: ${describeRemoteError(swept.remote.error)}\n`,
          );
      }
    }
    const { formatBytes } = await import('../util/bytes.js');
    if (flags.json) {
      const doc = {
        schema: GC_SCHEMA,
        dryRun,
        graceMs: flags.grace,
        local,
        compiled,
        ...(remote?.ok ? { remote: remote.value } : {}),
      };
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return ExitCode.ok;
    }
    const verb = dryRun ? 'would remove' : 'removed';
    const lines = [
      `local: ${verb} ${local.removed.length} of ${local.removed.length + local.kept} file lists in .pipe/manifests (${formatBytes(local.bytes)}); ${local.young} unused but younger than the grace period kept`,
      `local: ${verb} ${compiled.removed.length} of ${compiled.removed.length + compiled.kept + compiled.young} compiled stage trees in .pipe/compiled; ${compiled.young} unused but younger than the grace period kept`,
    ];
    if (remote?.ok) {
      const r = remote.value;
      lines.push(
        `remote ${r.url}: ${verb} ${r.removed.length} of ${r.objects} objects (${formatBytes(r.bytes)}) that none of ${r.versions} versions names; ${r.young} younger than the grace period kept`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return ExitCode.ok;
  });
}
