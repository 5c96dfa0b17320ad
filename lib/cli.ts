// argv -> command. The only place that sets the exit code. Each command module registers its
// options and loads its heavy dependencies (yaml, ajv, DuckDB, the GCS client) only when it runs,
// so `pipe --version` and `pipe --help` start fast.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode } from './util/exit-codes.js';
import type { CommandOutcome } from './commands/outcome.js';
import { defineBuild } from './commands/build.js';
import { defineDag } from './commands/dag.js';
import { defineKeys } from './commands/keys.js';
import { definePull } from './commands/pull.js';
import { definePush } from './commands/push.js';
import { defineStatus } from './commands/status.js';
import { defineVersions } from './commands/versions.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  const outcome: CommandOutcome = { code: ExitCode.ok };
  const program = new Command('pipe')
    .description('A content-hashed build graph for the keystroke ETL/EDA pipeline.')
    .version(packageVersion(), '-V, --version')
    .option('-C, --cwd <dir>', 'run as if pipe was started in <dir>')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const define of [
    defineBuild,
    defineStatus,
    defineDag,
    definePush,
    definePull,
    defineVersions,
    defineKeys,
  ]) {
    define(program, outcome);
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return outcome.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version arrive here as "errors" with exit code 0.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    process.stderr.write(
      `pipe: internal error, please report it with the command you ran (pipe ${packageVersion()}):\n` +
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return ExitCode.internal;
  }
}
