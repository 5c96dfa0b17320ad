// `pipe keys`: the signing key `pipe push` signs versions with, and the keys this workspace trusts
// (docs/threat-model.md). `create` makes a key where push looks for it and prints the public line
// to commit as config/trusted-keys/<name>.pub; `show` prints that line again; `list` shows the
// trusted keys and whether yours is among them.
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';

export function defineKeys(program: Command, outcome: CommandOutcome): void {
  const keys = program
    .command('keys')
    .description('your signing key for `pipe push`, and the keys this workspace trusts')
    .addHelpText(
      'after',
      '\nThe private key is PIPE_SIGNING_KEY (a path), else $XDG_CONFIG_HOME/pipe/signing-key.pem\n' +
        '(~/.config/pipe/signing-key.pem). Trusted public keys: config/trusted-keys/<name>.pub, one each.',
    );
  keys
    .command('create')
    .description('create your ed25519 signing key (never replaces one) and print its public key')
    .option('--who <text>', 'who holds the key, written after it (default: user@host)')
    .action(async (_opts: { who?: string }, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await createCommand(startFolder(cmd), cmd.opts<{ who?: string }>().who);
    });
  keys
    .command('show')
    .description('print the public key line of your signing key')
    .action(async (_opts: unknown, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await showCommand(startFolder(cmd));
    });
  keys
    .command('list')
    .description('list the keys in config/trusted-keys/ (whose versions builds reuse)')
    .action(async (_opts: unknown, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await listCommand(startFolder(cmd));
    });
}

async function context(start: string) {
  const { findWorkspace } = await import('../pipeline/workspace.js');
  const { Config } = await import('../pipeline/config.js');
  const root = findWorkspace(start);
  const keys = await import('../versions/signing-keys.js');
  return { root, config: new Config(root ?? start), keys };
}

async function createCommand(start: string, who: string | undefined): Promise<ExitCode> {
  const { hostname, userInfo } = await import('node:os');
  const { printable } = await import('../util/printable.js');
  const { config, keys } = await context(start);
  const { path } = keys.signingKeyPath(config);
  const made = keys.createSigningKey(path);
  if (!made.ok) {
    process.stderr.write(`pipe keys create: ${made.error}\n`);
    return ExitCode.refused;
  }
  const holder = who ?? `${userInfo().username}@${hostname()}`;
  const line = keys.publicKeyLine(made.value.publicKey, holder);
  const name = keys.suggestedKeyName(holder);
  process.stdout.write(
    [
      `created the ed25519 signing key ${path} (mode 600: keep it secret, never commit it)`,
      `pipe push signs every version with it. Its public key, ${made.value.fingerprint}:`,
      '',
      `  ${printable(line)}`,
      '',
      "For your team's builds to reuse what you push, commit that line as a trusted key:",
      `  echo '${printable(line)}' > ${keys.TRUSTED_KEYS_DIR}/${name}.pub`,
      '',
    ].join('\n'),
  );
  return ExitCode.ok;
}

async function showCommand(start: string): Promise<ExitCode> {
  const { config, keys } = await context(start);
  const { path } = keys.signingKeyPath(config);
  const loaded = keys.loadSigningKey(path);
  if (!loaded.ok) {
    process.stderr.write(`pipe keys show: ${loaded.error}\n`);
    return ExitCode.usage;
  }
  process.stdout.write(`${keys.publicKeyLine(loaded.value.publicKey, '')}\n`);
  return ExitCode.ok;
}

async function listCommand(start: string): Promise<ExitCode> {
  const { printable } = await import('../util/printable.js');
  const { root, config, keys } = await context(start);
  if (root === undefined) {
    process.stderr.write('pipe keys list: no pipeline.yaml here or above: not in a workspace\n');
    return ExitCode.usage;
  }
  const trusted = keys.readTrustedKeys(root);
  if (!trusted.ok) {
    process.stderr.write(`pipe keys list: ${trusted.error}\n`);
    return ExitCode.invalidPipeline;
  }
  const mine = keys.loadSigningKey(keys.signingKeyPath(config).path);
  const lines = trusted.value.map(
    (k) =>
      `${k.name}  ${k.fingerprint}  ${printable(k.who)}${mine.ok && mine.value.publicKey === k.publicKey ? '  (yours)' : ''}`,
  );
  if (lines.length === 0)
    lines.push(
      `no trusted keys in ${keys.TRUSTED_KEYS_DIR}/: builds reuse no published version, and pull needs --accept-untrusted`,
    );
  if (mine.ok && !trusted.value.some((k) => k.publicKey === mine.value.publicKey))
    lines.push(`your key ${mine.value.fingerprint} is not among them (npx pipe keys show)`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}
