// An out must not hold code a stage runs. pipeline.yaml's rules refuse an out that holds a stage's
// script (pipeline/rules.ts), but a script's imports are found only by walking its closure
// (code-deps.ts): an out `stages/shared` would let one stage replace the helpers another stage
// imports, and the next build would run them. Checked before any stage runs, each located at
// the out with the stage whose code it holds.
import { readFile } from 'node:fs/promises';
import { error, type Diagnostic } from '../pipeline/diagnostics.js';
import { hashPath } from '../observe/hash-path.js';
import { cmdScript } from '../graph/stage.js';
import { pathContains } from '../util/paths.js';
import type { BuildState } from './build-state.js';
import { currentClosure } from './code-deps.js';

/** One error per out that holds a file of some stage's code closure. */
export async function closureOutClashes(ws: BuildState): Promise<Diagnostic[]> {
  const ctx = ws.observe;
  const hashFile = (p: string) =>
    ctx.memo.get(p, false, () => hashPath(ctx.workspace, p, ctx.cache, ctx.stats));
  const code: { stage: string; file: string }[] = [];
  for (const stage of ws.pipeline.stages.values()) {
    const script = cmdScript(stage.cmd.value);
    if (script === undefined) continue;
    const closure = await currentClosure(ws.root, script, hashFile);
    for (const file of Object.keys(closure.files)) code.push({ stage: stage.name, file });
  }
  const found: Diagnostic[] = [];
  let file: { path: string; text: string } | undefined;
  for (const stage of ws.pipeline.stages.values()) {
    for (const out of stage.outs) {
      const held = code.find((c) => pathContains(out.value, c.file));
      if (held === undefined) continue;
      file ??= { path: 'pipeline.yaml', text: await readFile(ws.pipeline.file, 'utf8') };
      found.push(
        error(
          file,
          out.range,
          `out "${out.value}" of stage "${stage.name}" holds "${held.file}", code that stage "${held.stage}" runs`,
          "a stage's outs are deleted and rewritten on every run, and code is a source file kept in git:\nmove the stage's output to a folder of its own, e.g. data/" +
            stage.name,
        ),
      );
    }
  }
  return found;
}
