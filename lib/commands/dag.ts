// PLACEHOLDER: replaced by the issue that builds `pipe dag`.
import type { Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';

export function defineDag(program: Command, outcome: CommandOutcome): void {
  program
    .command('dag')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('pipe dag: not built yet\n');
      outcome.code = ExitCode.usage;
    });
}
