// PLACEHOLDER: replaced by the issue that builds `pipe build`.
import type { Command } from 'commander';
import type { CommandOutcome } from '../cli.js';
import { ExitCode } from '../exit-codes.js';

export function defineBuild(program: Command, outcome: CommandOutcome): void {
  program
    .command('build')
    .description('(not built yet)')
    .action(() => {
      process.stderr.write('pipe build: not built yet\n');
      outcome.code = ExitCode.usage;
    });
}
