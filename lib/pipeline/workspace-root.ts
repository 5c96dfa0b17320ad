// Where the workspace is: the nearest folder holding pipeline.yaml. Apart from workspace.ts (which
// loads the pipeline, yaml and all) so a command can find the folder before paying for that.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const pipelineFileName = 'pipeline.yaml';

/** The nearest folder at or above `start` that holds pipeline.yaml, like git finds .git. */
export function findWorkspace(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, pipelineFileName))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}
