// PLACEHOLDER: replaced by the issue that builds `pipe push`.
import type { Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';

export function definePush(program: Command, outcome: CommandOutcome): void {
  program
    .command('push')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('pipe push: not built yet\n');
      outcome.code = ExitCode.usage;
    });
}
