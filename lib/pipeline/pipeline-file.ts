// pipeline.yaml -> Pipeline. Reads the file (the only I/O besides the disk checks it delegates),
// parses it into nodes that keep their offsets, and runs every check in one pass so the user sees
// all problems at once, each located (file:LINE:COL, a marker and the fix).
//
//   read -> YAML syntax + duplicate keys -> JSON Schema (types, unknown keys, names)
//        -> shape into stages -> rules on paths and outs, cycles (pure) -> checks against disk
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { error, sortDiagnostics } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import type { Pipeline, Stage, StageName } from '../graph/stage.js';
import { loadParams, missingParamDiagnostics } from './params-file.js';
import { diskRules } from './disk-rules.js';
import { protectedOutLinks, protectedOutRules } from './protected-outs.js';
import { cycleRules, outRules, pathRules, reservedNameRules } from './rules.js';
import { schemaDiagnostics } from './schema.js';
import { shapeStages } from './shape.js';
import type { StageDraft } from './shape.js';
import { parseYamlSource } from './yaml-source.js';
import { err, ok, type Result } from '../util/result.js';

import { pipelineFileName } from './workspace-root.js';

export { pipelineFileName };

/** A valid pipeline and the warnings to print with it. */
export interface LoadedPipeline {
  readonly pipeline: Pipeline;
  readonly warnings: Diagnostic[];
}

/** The pipeline, or every error found (sorted by position). */
export type LoadPipelineResult = Result<LoadedPipeline, Diagnostic[]>;

/** Reads and validates `<root>/pipeline.yaml`. Never throws for a user's mistake. */
export async function loadPipeline(root: string): Promise<LoadPipelineResult> {
  const path = join(root, pipelineFileName);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR' && code !== 'EACCES') throw e;
    return err([missingPipelineFile(root, code)]);
  }
  return parsePipeline(root, { path: pipelineFileName, text });
}

/** Validates pipeline.yaml's text; `root` is where relative paths are checked against the disk. */
export async function parsePipeline(root: string, file: SourceFile): Promise<LoadPipelineResult> {
  const parsed = parseYamlSource(file);
  // A text that does not parse has no trustworthy tree: report the syntax errors alone.
  if (!parsed.syntaxOk) return err(parsed.errors);
  const source = parsed.source;
  const stages = shapeStages(source);
  const found = [
    ...parsed.errors,
    ...schemaDiagnostics(source),
    ...reservedNameRules(file, stages),
    ...pathRules(file, stages),
    ...outRules(file, stages),
    ...protectedOutRules(file, stages),
    ...(await protectedOutLinks(root, file, stages)),
    ...cycleRules(file, stages),
    ...(await diskRules(root, file, stages)),
    ...(await paramRules(root, file, stages)),
  ];
  // The disk checks also warn (a command line's program not on this machine's PATH).
  const errors = found.filter((d) => d.severity === 'error');
  const warnings = found.filter((d) => d.severity === 'warning');
  if (errors.length > 0) return err(sortDiagnostics(errors));
  const validated = new Map<StageName, Stage>();
  for (const draft of stages) {
    // Every stage has a cmd here: the schema requires one, and its absence would be an error.
    if (draft.cmd === undefined)
      throw new Error(`bug: stage ${draft.name} passed validation without a cmd`);
    validated.set(draft.name, { ...draft, cmd: draft.cmd });
  }
  return ok({
    pipeline: { root, file: join(root, pipelineFileName), stages: validated },
    warnings: sortDiagnostics([...parsed.warnings, ...warnings]),
  });
}

async function paramRules(
  root: string,
  file: SourceFile,
  stages: readonly StageDraft[],
): Promise<Diagnostic[]> {
  const declared = stages.flatMap((s) => s.params.map((key) => ({ stage: s.name, key })));
  if (declared.length === 0) return [];
  const params = await loadParams(root);
  return params.ok ? missingParamDiagnostics(file, params.value, declared) : params.error;
}

function missingPipelineFile(root: string, code: string | undefined): Diagnostic {
  const why = code === 'ENOENT' ? 'there is no' : 'cannot read';
  return error(undefined, undefined, `${why} ${pipelineFileName} in ${root}`, starterHint);
}

export const starterHint = [
  'run pipe inside a workspace (or pass -C <folder>), or start one with a pipeline.yaml like:',
  '  # yaml-language-server: $schema=config/pipeline.schema.json',
  '  stages:',
  '    hello:',
  '      cmd: stages/hello.mjs',
  '      deps: [data/input.txt]',
  '      outs: [data/hello.txt]',
].join('\n');
