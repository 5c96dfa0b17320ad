// `pipe pull <version|ref>`: put a published version's outputs in the workspace, verified, and
// record them in pipeline.lock so `pipe status` shows them fresh with no re-run.
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';

interface PullFlags {
  stage: string[];
  force?: boolean;
  json?: boolean;
  remote?: string;
}

export const PULL_SCHEMA = 1;

export function definePull(program: Command, outcome: CommandOutcome): void {
  program
    .command('pull')
    .description("download a published version's outputs into the workspace")
    .argument('<version>', 'a version ID, or a ref such as `current` or a tag')
    .option(
      '-s, --stage <name>',
      'pull only this stage (repeatable; default: every stage in the version)',
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .option('-f, --force', 'replace outputs that differ from pipeline.lock (hand edits are lost)')
    .option('--json', 'print a JSON document instead of text')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .addHelpText(
      'after',
      '\nEvery object is checked against its sha256 before it lands; outputs are replaced atomically.\n' +
        'Exit codes: 0 ok, 2 usage, 3 invalid pipeline.yaml, 6 remote error or bad version data, 7 local edits (use --force).',
    )
    .action(async (target: string, _opts: PullFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await pullCommand(target, startFolder(cmd), cmd.opts<PullFlags>());
    });
}

async function pullCommand(target: string, start: string, flags: PullFlags): Promise<ExitCode> {
  const { openRemoteWorkspace, transferConcurrency, transferOptions, withBuildMutex } =
    await import('./remote-command.js');
  const { fetchManifest, resolveVersion } = await import('../versions/fetch.js');
  const { placements, placeOutputs } = await import('../versions/pull.js');
  const { inspectWorkspace } = await import('../versions/pull-check.js');
  const { describeVersionError, invalidVersion } = await import('../versions/version-error.js');
  const { readLock, withEntry, writeLock } = await import('../build/lockfile.js');
  const { recordStageTimes } = await import('../build/stage-times.js');
  const { formatBytes } = await import('../remote/transfer-progress.js');
  const opened = await openRemoteWorkspace(start, flags.remote);
  if (!opened.ok) return opened.error;
  const { ws, remote } = opened.value;
  const fail = (error: import('../versions/version-error.js').VersionError): ExitCode => {
    process.stderr.write(`pipe pull: ${describeVersionError(error)}\n`);
    return ExitCode.remote;
  };
  const id = await resolveVersion(remote, target);
  if (!id.ok) {
    if (id.error.kind !== 'invalid') return fail(id.error);
    process.stderr.write(`pipe pull: ${id.error.message}\n`);
    return ExitCode.usage;
  }
  const got = await fetchManifest(remote, ws.root, id.value);
  if (!got.ok) return fail(got.error);
  const manifest = got.value;
  const inVersion = Object.keys(manifest.stages);
  const here = (s: string) => ws.pipeline.stages.has(s as never);
  // Without --stage: every stage of the version this pipeline still has (the others are said).
  const wanted = flags.stage.length > 0 ? flags.stage : inVersion.filter(here);
  const gone = flags.stage.length > 0 ? [] : inVersion.filter((s) => !here(s));
  if (gone.length > 0)
    process.stderr.write(
      `pipe pull: not pulling ${gone.join(', ')}: no such stage in pipeline.yaml any more\n`,
    );
  const problems = wanted.filter((s) => !inVersion.includes(s) || !here(s));
  if (problems.length > 0) {
    const where = (s: string) =>
      !inVersion.includes(s)
        ? `not in version ${manifest.id} (it has: ${inVersion.join(', ')})`
        : 'not in pipeline.yaml';
    process.stderr.write(problems.map((s) => `pipe pull: stage ${s} is ${where(s)}\n`).join(''));
    return ExitCode.usage;
  }
  // A version may only write where this pipeline's stage writes: never over a source file.
  const mismatched = wanted.filter(
    (s) =>
      outsKey(Object.keys(manifest.stages[s]!.lock.outs)) !==
      outsKey(ws.pipeline.stages.get(s as never)!.outs.map((o) => o.value)),
  );
  if (mismatched.length > 0) {
    for (const s of mismatched) {
      const theirs = Object.keys(manifest.stages[s]!.lock.outs).join(', ');
      const ours = ws.pipeline.stages
        .get(s as never)!
        .outs.map((o) => o.value)
        .join(', ');
      process.stderr.write(
        `pipe pull: refused: stage ${s} writes ${ours || 'nothing'} here, but in version ${manifest.id} it wrote ${theirs || 'nothing'}\n`,
      );
    }
    process.stderr.write(
      '  pull a version built from this pipeline.yaml, or leave these stages out with --stage\n',
    );
    return ExitCode.refused;
  }
  const outs = placements(manifest, wanted);
  if (!outs.ok) return fail(invalidVersion(outs.error));

  return withBuildMutex(ws.root, `pipe pull ${target}`, async () => {
    const local = await inspectWorkspace(ws, manifest, outs.value);
    if (local.edited.length > 0 && flags.force !== true) {
      const named = local.edited.map(
        (e) => `  ${e.stage}: ${e.file ?? e.path}${e.file === undefined ? '' : ` (in ${e.path})`}`,
      );
      process.stderr.write(
        `pipe pull: refused: these outputs differ from pipeline.lock (edited by hand?) and would be replaced:\n${named.join('\n')}\n  keep them elsewhere, or pass --force to replace them\n`,
      );
      return ExitCode.refused;
    }
    const placed = await placeOutputs({
      root: ws.root,
      remote,
      manifest,
      outs: outs.value,
      local: local.local,
      upToDate: local.upToDate,
      transfer: transferOptions(flags.json === true, transferConcurrency(ws, remote)),
    });
    if (!placed.ok) {
      // Name the workspace files a bad object would have become, not only its hash.
      const sha =
        placed.error.kind === 'corrupt' ? /[0-9a-f]{64}/.exec(placed.error.what)?.[0] : undefined;
      const paths = wanted.flatMap((s) =>
        manifest.stages[s]!.files.filter((f) => f.sha256 === sha).map((f) => f.path),
      );
      const code = fail(placed.error);
      if (paths.length > 0)
        process.stderr.write(
          `  it holds ${paths.join(', ')}; nothing was written to the workspace\n`,
        );
      return code;
    }
    // Re-read under the mutex: a build that finished while we waited wrote entries we must keep.
    const current = readLock(ws.root);
    let lock = current.ok ? current.value : ws.lock;
    const pulled = placed.value;
    for (const [stage, entry] of Object.entries(pulled.entries))
      lock = withEntry(lock, stage, entry);
    await writeLock(ws.root, lock);
    const times = Object.fromEntries(
      wanted.flatMap((s) =>
        manifest.stages[s]!.durationMs === undefined
          ? []
          : [
              [
                s,
                {
                  fingerprint: manifest.stages[s]!.lock.fingerprint,
                  durationMs: manifest.stages[s]!.durationMs!,
                },
              ],
            ],
      ),
    );
    await recordStageTimes(ws.root, times);
    const summary = {
      schema: PULL_SCHEMA,
      version: manifest.id,
      pushedBy: manifest.pushedBy,
      stages: wanted,
      downloaded: pulled.downloaded,
      bytes: pulled.bytes,
      filesPlaced: pulled.placed,
    };
    if (flags.json === true) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(
        `pulled version ${manifest.id} (pushed by ${manifest.pushedBy}): ${wanted.join(', ')}; ` +
          `${pulled.downloaded} objects downloaded (${formatBytes(pulled.bytes)}), ${pulled.placed} files placed\n`,
      );
    }
    return ExitCode.ok;
  });
}

function outsKey(outs: readonly string[]): string {
  return JSON.stringify([...outs].sort());
}
