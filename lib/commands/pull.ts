// PLACEHOLDER: replaced by the issue that builds `pipe pull`.
import type { Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';

export function definePull(program: Command, outcome: CommandOutcome): void {
  program
    .command('pull')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('pipe pull: not built yet\n');
      outcome.code = ExitCode.usage;
    });
}
