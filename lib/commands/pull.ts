// `pipe pull <version|ref>`: put a published version's outputs in the workspace, verified, and
// record them in pipeline.lock so `pipe status` shows them fresh with no re-run.
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';

interface PullFlags {
  stage: string[];
  force?: boolean;
  acceptUntrusted?: boolean;
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
    .option(
      '--accept-untrusted',
      'pull a version that is unsigned or signed by a key config/trusted-keys/ does not hold (never one edited after signing)',
    )
    .option('--json', 'print a JSON document instead of text')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .addHelpText(
      'after',
      '\nOnly versions signed by a key in config/trusted-keys/ are pulled unless --accept-untrusted\n' +
        '(docs/threat-model.md). Every object is checked against its sha256 and size before it lands;\n' +
        "files land only inside the stage's outs as this pipeline.yaml declares them, atomically.\n" +
        'Exit codes: 0 ok, 2 usage, 3 invalid pipeline.yaml or trusted key file, 6 remote error or bad\n' +
        'version data, 7 local edits (use --force) or outs declared differently, 9 untrusted version.',
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
  const { placeOutputs } = await import('../versions/pull.js');
  const { checkPlacement } = await import('../versions/placement.js');
  const { readTrustedKeys } = await import('../versions/signing-keys.js');
  const { checkTrust, describeSigner, describeTrust } = await import('../versions/signature.js');
  const { printable } = await import('../util/printable.js');
  const { inspectWorkspace } = await import('../versions/pull-check.js');
  const { describeVersionError, invalidVersion } = await import('../versions/version-error.js');
  const { readLock, withEntry, writeLock } = await import('../build/lockfile.js');
  const { recordStageTimes } = await import('../build/stage-times.js');
  const { formatBytes } = await import('../remote/transfer-progress.js');
  const opened = await openRemoteWorkspace(start, flags.remote);
  if (!opened.ok) return opened.error;
  const { ws, remote } = opened.value;
  const fail = (error: import('../versions/version-error.js').VersionError): ExitCode => {
    process.stderr.write(`pipe pull: ${printable(describeVersionError(error))}\n`);
    return ExitCode.remote;
  };
  const trusted = readTrustedKeys(ws.root);
  if (!trusted.ok) {
    process.stderr.write(`pipe pull: ${trusted.error}\n`);
    return ExitCode.invalidPipeline;
  }
  const id = await resolveVersion(remote, target);
  if (!id.ok) {
    if (id.error.kind !== 'invalid') return fail(id.error);
    process.stderr.write(`pipe pull: ${id.error.message}\n`);
    return ExitCode.usage;
  }
  const got = await fetchManifest(remote, ws.root, id.value);
  if (!got.ok) return fail(got.error);
  const manifest = got.value;
  const trust = checkTrust(manifest, trusted.value);
  if (trust.kind === 'tampered' || (trust.kind !== 'trusted' && flags.acceptUntrusted !== true)) {
    const fix =
      trust.kind === 'tampered'
        ? 'a version edited after signing is never pulled; ask its pusher to push again'
        : `pull it anyway with --accept-untrusted if you know where it came from, or trust its signer: commit their public key (\`npx pipe keys show\` on their side) as config/trusted-keys/<name>.pub`;
    process.stderr.write(
      `pipe pull: refused: version ${manifest.id} ${printable(describeTrust(trust))}\n  ${fix}\n`,
    );
    return ExitCode.untrusted;
  }
  if (trust.kind !== 'trusted')
    process.stderr.write(
      `pipe pull: warning: version ${manifest.id} ${printable(describeTrust(trust))}; pulled because of --accept-untrusted\n`,
    );
  const inVersion = Object.keys(manifest.stages);
  const here = (s: string) => ws.pipeline.stages.has(s as never);
  // Without --stage: every stage of the version this pipeline still has (the others are said).
  const wanted = flags.stage.length > 0 ? flags.stage : inVersion.filter(here);
  const gone = flags.stage.length > 0 ? [] : inVersion.filter((s) => !here(s));
  if (gone.length > 0)
    process.stderr.write(
      `pipe pull: not pulling ${printable(gone.join(', '))}: no such stage in pipeline.yaml any more\n`,
    );
  const problems = wanted.filter((s) => !inVersion.includes(s) || !here(s));
  if (problems.length > 0) {
    const where = (s: string) =>
      !inVersion.includes(s)
        ? `not in version ${manifest.id} (it has: ${printable(inVersion.join(', '))})`
        : 'not in pipeline.yaml';
    process.stderr.write(
      problems.map((s) => `pipe pull: stage ${printable(s)} is ${where(s)}\n`).join(''),
    );
    return ExitCode.usage;
  }
  // A version may only write where this pipeline's stage writes: never over a source file.
  const outs = checkPlacement(manifest, wanted, ws.pipeline);
  if (!outs.ok) {
    const problem = outs.error;
    if (problem.kind === 'invalid') return fail(invalidVersion(problem.message));
    for (const d of problem.stages)
      process.stderr.write(
        `${printable(`pipe pull: refused: stage ${d.stage} writes ${d.ours.join(', ') || 'nothing'} here, but in version ${manifest.id} it wrote ${d.theirs.join(', ') || 'nothing'}`)}\n`,
      );
    process.stderr.write(
      '  pull a version built from this pipeline.yaml, or leave these stages out with --stage\n',
    );
    return ExitCode.refused;
  }

  return withBuildMutex(ws.root, `pipe pull ${target}`, async () => {
    const local = await inspectWorkspace(ws, manifest, outs.value);
    if (local.edited.length > 0 && flags.force !== true) {
      const named = local.edited.map((e) =>
        printable(
          `  ${e.stage}: ${e.file ?? e.path}${e.file === undefined ? '' : ` (in ${e.path})`}`,
        ),
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
          `  it holds ${printable(paths.join(', '))}; nothing was written to the workspace\n`,
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
      signedBy: trust.kind === 'trusted' ? trust.key.name : null,
      trust: trust.kind,
    };
    if (flags.json === true) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      process.stdout.write(
        `pulled version ${manifest.id} (pushed by ${printable(manifest.pushedBy)}, ${trust.kind === 'trusted' ? `signed by ${printable(describeSigner(trust.key))}` : 'untrusted'}): ${printable(wanted.join(', '))}; ` +
          `${pulled.downloaded} objects downloaded (${formatBytes(pulled.bytes)}), ${pulled.placed} files placed\n`,
      );
    }
    return ExitCode.ok;
  });
}
