// What every command's action hands back to cli.ts, and the folder a command starts from.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { ExitCode } from '../util/exit-codes.js';

/** A command's action: runs, prints, and returns the exit code it means. */
export type CommandOutcome = { code: ExitCode | number };

/** The folder a command starts from: the global `-C <dir>` (relative to cwd) or the cwd. */
export function startFolder(command: Command): string {
  const opts = command.optsWithGlobals<{ cwd?: string }>();
  return resolve(process.cwd(), opts.cwd ?? '.');
}
