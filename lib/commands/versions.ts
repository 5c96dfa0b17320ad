// `pipe versions`: the registry of published versions (who, when, notes, record counts, where each
// stage's files are, which refs point where); `pipe versions show <id|ref>`: one in full.
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';
import type { VersionManifest } from '../versions/manifest.js';
import { printable } from '../util/printable.js';
import type { Trust } from '../versions/signature.js';
import { defineVersionsDiff } from './versions-diff.js';

interface VersionsFlags {
  json?: boolean;
  remote?: string;
}

export const VERSIONS_SCHEMA = 1;

export function defineVersions(program: Command, outcome: CommandOutcome): void {
  const versions = program
    .command('versions')
    .description('list the versions published on the remote, and the refs pointing at them')
    .option('--json', 'print a JSON document instead of text')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .addHelpText('after', '\nExit codes: 0 ok, 2 usage or no remote configured, 6 remote error.')
    .action(async (_opts: VersionsFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await listCommand(startFolder(cmd), cmd.opts<VersionsFlags>());
    });
  versions
    .command('show')
    .description('show one version in full: every stage, file, sha256 and size')
    .argument('<version>', 'a version ID, or a ref such as `current`')
    .option('--json', 'print the manifest as JSON')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .action(async (target: string, _opts: VersionsFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await showCommand(target, startFolder(cmd), {
        ...cmd.parent!.opts<VersionsFlags>(),
        ...cmd.opts<VersionsFlags>(),
      });
    });
  defineVersionsDiff(versions, outcome);
}

async function listCommand(start: string, flags: VersionsFlags): Promise<ExitCode> {
  const { openRemoteWorkspace } = await import('./remote-command.js');
  const { fetchManifest } = await import('../versions/fetch.js');
  const { describeRemoteError } = await import('../remote/remote.js');
  const { describeVersionError } = await import('../versions/version-error.js');
  const opened = await openRemoteWorkspace(start, flags.remote);
  if (!opened.ok) return opened.error;
  const { ws, remote } = opened.value;
  const trustOf = await trustChecker(ws.root);
  const [ids, refs] = await Promise.all([remote.listVersions(), remote.listRefs()]);
  if (!ids.ok || !refs.ok) {
    const error = !ids.ok ? ids.error : !refs.ok ? refs.error : undefined;
    process.stderr.write(`pipe versions: ${describeRemoteError(error!)}\n`);
    return ExitCode.remote;
  }
  const refsOf = (id: string) =>
    [...refs.value].filter(([, s]) => s.versionId === id).map(([name]) => name);
  const manifests: VersionManifest[] = [];
  const broken: string[] = [];
  for (const id of ids.value) {
    const got = await fetchManifest(remote, ws.root, id);
    if (got.ok) manifests.push(got.value);
    else broken.push(`${id}: ${describeVersionError(got.error)}`);
  }
  if (flags.json) {
    const doc = {
      schema: VERSIONS_SCHEMA,
      remote: remote.url,
      refs: Object.fromEntries([...refs.value].map(([name, s]) => [name, s.versionId])),
      versions: manifests.map((m) => ({
        ...summaryOf(m),
        signature: signatureJson(trustOf(m)),
        refs: refsOf(m.id),
      })),
      unreadable: broken,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const lines: string[] =
      manifests.length === 0
        ? [`no versions on ${remote.url} yet (publish one with \`pipe push\`)`]
        : [];
    for (const m of [...manifests].reverse())
      lines.push(...describe(m, refsOf(m.id), trustOf(m)), '');
    for (const [name, s] of refs.value)
      if (!ids.value.includes(s.versionId))
        lines.push(`ref ${name} -> ${s.versionId}, which is not on the remote`);
    for (const b of broken) lines.push(`unreadable version ${printable(b)}`);
    process.stdout.write(`${lines.join('\n').trimEnd()}\n`);
  }
  return broken.length > 0 ? ExitCode.remote : ExitCode.ok;
}

async function showCommand(target: string, start: string, flags: VersionsFlags): Promise<ExitCode> {
  const { openRemoteWorkspace } = await import('./remote-command.js');
  const { fetchManifest, resolveVersion } = await import('../versions/fetch.js');
  const { describeVersionError } = await import('../versions/version-error.js');
  const { formatBytes } = await import('../remote/transfer-progress.js');
  const opened = await openRemoteWorkspace(start, flags.remote);
  if (!opened.ok) return opened.error;
  const { ws, remote } = opened.value;
  const trustOf = await trustChecker(ws.root);
  const id = await resolveVersion(remote, target);
  const got = id.ok ? await fetchManifest(remote, ws.root, id.value) : id;
  if (!got.ok) {
    process.stderr.write(`pipe versions show: ${printable(describeVersionError(got.error))}\n`);
    return got.error.kind === 'invalid' && !id.ok ? ExitCode.usage : ExitCode.remote;
  }
  const refs = await remote.listRefs();
  const pointing = refs.ok
    ? [...refs.value].filter(([, s]) => s.versionId === got.value.id).map(([n]) => n)
    : [];
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ schema: VERSIONS_SCHEMA, remote: remote.url, refs: pointing, signature: signatureJson(trustOf(got.value)), manifest: got.value }, null, 2)}\n`,
    );
    return ExitCode.ok;
  }
  const lines = describe(got.value, pointing, trustOf(got.value));
  for (const [name, stage] of Object.entries(got.value.stages)) {
    lines.push(`  ${printable(name)} files:`);
    for (const f of stage.files)
      lines.push(`    ${printable(f.path)}  ${formatBytes(f.size)}  sha256 ${f.sha256}`);
  }
  lines.push(`  objects are stored on ${remote.url} under objects/<first two hex digits>/<sha256>`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

/** Per stage: where its files go in a workspace, how many and how big, record counts, run time. */
function summaryOf(m: VersionManifest) {
  return {
    id: m.id,
    pushedBy: m.pushedBy,
    pushedAt: m.pushedAt,
    ...(m.gitCommit === undefined ? {} : { gitCommit: m.gitCommit }),
    notes: m.notes,
    stages: Object.fromEntries(
      Object.entries(m.stages).map(([name, s]) => [
        name,
        {
          outs: Object.keys(s.lock.outs),
          files: s.files.length,
          bytes: s.files.reduce((sum, f) => sum + f.size, 0),
          ...(s.lock.metrics === undefined ? {} : { metrics: s.lock.metrics }),
          ...(s.durationMs === undefined ? {} : { durationMs: s.durationMs }),
        },
      ]),
    ),
  };
}

/** A version in a few lines. Everything in a manifest is untrusted text: printed escaped. */
function describe(m: VersionManifest, refs: readonly string[], trust: Checked): string[] {
  const s = summaryOf(m);
  const lines = [`${m.id}${refs.length > 0 ? `  <- ${refs.join(', ')}` : ''}`];
  lines.push(
    printable(
      `  pushed by ${m.pushedBy} at ${m.pushedAt}${m.gitCommit === undefined ? '' : `, git ${String(m.gitCommit).slice(0, 12)}`}`,
    ),
  );
  lines.push(`  signature: ${printable(trust.label)}`);
  if (m.notes !== '') lines.push(`  notes: ${printable(m.notes)}`);
  for (const [name, st] of Object.entries(s.stages)) {
    const metrics = 'metrics' in st ? `, records ${JSON.stringify(st.metrics)}` : '';
    const time = 'durationMs' in st ? `, ran ${(st.durationMs! / 1000).toFixed(1)}s` : '';
    lines.push(
      printable(
        `  ${name}: ${st.outs.join(', ')} (${st.files} files, ${st.bytes} bytes${metrics}${time})`,
      ),
    );
  }
  return lines;
}

/**
 * How each version's signature stands against config/trusted-keys/. A bad key file is said once
 * and counts as no trusted keys: listing stays possible, and nothing is called trusted wrongly.
 */
async function trustChecker(root: string): Promise<(m: VersionManifest) => Checked> {
  const { readTrustedKeys } = await import('../versions/signing-keys.js');
  const { checkTrust, trustLabel } = await import('../versions/signature.js');
  const keys = readTrustedKeys(root);
  if (!keys.ok) process.stderr.write(`pipe versions: ${keys.error}; no key is trusted\n`);
  const trusted = keys.ok ? keys.value : [];
  return (m) => {
    const trust = checkTrust(m, trusted);
    return { trust, label: trustLabel(trust) };
  };
}

interface Checked {
  readonly trust: Trust;
  readonly label: string;
}

function signatureJson({ trust }: Checked) {
  return {
    status: trust.kind,
    ...(trust.kind === 'trusted'
      ? { key: trust.key.name, fingerprint: trust.key.fingerprint }
      : {}),
    ...(trust.kind === 'unknown-key' || trust.kind === 'tampered'
      ? { fingerprint: trust.fingerprint }
      : {}),
  };
}
