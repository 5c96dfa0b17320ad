// PLACEHOLDER: replaced by the issue that builds `pipe versions`.
import type { Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';

export function defineVersions(program: Command, outcome: CommandOutcome): void {
  program
    .command('versions')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('pipe versions: not built yet\n');
      outcome.code = ExitCode.usage;
    });
}
