// A stage's worker thread started from its compiled module, as the stage's main thread is: the
// runner names the compiled tree a stage runs from in PIPE_COMPILED (build/compiled-stage.ts), and
// a source URL inside the workspace maps to its compiled file there. Without it a `.ts` worker entry
// registers tsx in the worker first: ~0.25 s of CPU per worker, paid by clean's screening workers
// on every run, whatever a run's size.
import { existsSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const COMPILED_EXT: Readonly<Record<string, string>> = { '.ts': '.js', '.mts': '.mjs' };

/**
 * The compiled module of worker entry `source` (a `file:` URL of a .ts/.mts module of the
 * stage's closure) when the stage runs compiled; undefined when it runs under tsx, or `source`
 * was not compiled with it (then start it through tsx, as before).
 */
export function compiledWorkerEntry(source: URL | string): URL | undefined {
  const tree = process.env.PIPE_COMPILED;
  const workspace = process.env.PIPE_WORKSPACE;
  if (tree === undefined || workspace === undefined) return undefined;
  const path = fileURLToPath(source);
  const rel = relative(workspace, path);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  const ext = Object.keys(COMPILED_EXT).find((e) => rel.endsWith(e));
  if (ext === undefined) return undefined;
  const compiled = `${tree}${sep}${rel.slice(0, -ext.length)}${COMPILED_EXT[ext]}`;
  return existsSync(compiled) ? pathToFileURL(compiled) : undefined;
}
