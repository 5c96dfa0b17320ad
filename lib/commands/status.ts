// PLACEHOLDER: replaced by the issue that builds `pipe status`.
import type { Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';

export function defineStatus(program: Command, outcome: CommandOutcome): void {
  program
    .command('status')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('pipe status: not built yet\n');
      outcome.code = ExitCode.usage;
    });
}
