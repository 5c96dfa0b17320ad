// Finds the workspace (the folder holding pipeline.yaml) and loads its pipeline for a command,
// printing diagnostics. Commands call this first; a false `ok` carries the exit code to return.
import { statSync } from 'node:fs';
import { error, formatDiagnostics } from './diagnostics.js';
import { ExitCode } from '../util/exit-codes.js';
import type { Pipeline } from '../graph/stage.js';
import { loadPipeline, pipelineFileName, starterHint } from './pipeline-file.js';
import { findWorkspace } from './workspace-root.js';
import { err, ok } from '../util/result.js';
import type { Result } from '../util/result.js';

export { findWorkspace };

/** Loads the pipeline of the workspace around `start`; prints warnings and errors to `stderr`. */
export async function openWorkspace(
  start: string,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<Result<Pipeline, ExitCode>> {
  if (!isFolder(start)) {
    stderr.write(
      formatDiagnostics([
        error(
          undefined,
          undefined,
          `cannot start in ${start}: no such folder`,
          'pass an existing folder to -C',
        ),
      ]),
    );
    return err(ExitCode.usage);
  }
  const root = findWorkspace(start);
  if (root === undefined) {
    const message = `no ${pipelineFileName} in ${start} or any folder above it`;
    stderr.write(formatDiagnostics([error(undefined, undefined, message, starterHint)]));
    return err(ExitCode.invalidPipeline);
  }
  const loaded = await loadPipeline(root);
  if (!loaded.ok) {
    stderr.write(formatDiagnostics(loaded.error));
    const count = loaded.error.length;
    stderr.write(`${count} ${count === 1 ? 'error' : 'errors'}\n`);
    return err(ExitCode.invalidPipeline);
  }
  stderr.write(formatDiagnostics(loaded.value.warnings));
  return ok(loaded.value.pipeline);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
