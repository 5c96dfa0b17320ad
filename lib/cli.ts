// argv -> command. The only place that sets the exit code. Only the named command's module is
// loaded (each loads its heavy dependencies -- yaml, ajv, DuckDB, the GCS client -- only when it
// runs), so `pipe status` pays for no other command and `pipe --version` starts fast; with no
// command named (`pipe --help`, a typo), all are loaded, for the list and the suggestion.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode } from './util/exit-codes.js';
import type { CommandOutcome } from './commands/outcome.js';

type Define = (program: Command, outcome: CommandOutcome) => void;

/** Every command, in the order `pipe --help` lists them. */
const commands: Readonly<Record<string, () => Promise<Define>>> = {
  build: async () => (await import('./commands/build.js')).defineBuild,
  status: async () => (await import('./commands/status.js')).defineStatus,
  dag: async () => (await import('./commands/dag.js')).defineDag,
  push: async () => (await import('./commands/push.js')).definePush,
  pull: async () => (await import('./commands/pull.js')).definePull,
  versions: async () => (await import('./commands/versions.js')).defineVersions,
  keys: async () => (await import('./commands/keys.js')).defineKeys,
  params: async () => (await import('./commands/params.js')).defineParams,
  gc: async () => (await import('./commands/gc.js')).defineGc,
};

/**
 * The command argv names: its first word after the global options. Undefined when that is not a
 * command, or when an option comes first that is not one of ours (commander then says what is
 * wrong, knowing every command).
 */
export function commandNamed(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '-C' || word === '--cwd') i++;
    else if (word.startsWith('--cwd=') || (word.startsWith('-C') && word.length > 2)) continue;
    else if (['-V', '--version', '-h', '--help'].includes(word)) continue;
    else return Object.hasOwn(commands, word) ? word : undefined;
  }
  return undefined;
}

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
  const named = commandNamed(argv);
  for (const name of named === undefined ? Object.keys(commands) : [named])
    (await commands[name]!())(program, outcome);
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
