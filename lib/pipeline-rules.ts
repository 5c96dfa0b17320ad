// The checks on a pipeline that need no disk: paths that leave the workspace, outs that two
// stages claim or that nest, and cycles. Pure; each rule pushes located diagnostics, so every
// problem is reported in the same pass (STYLE.md §4).
import { error } from './diagnostics.js';
import type { Diagnostic, DiagnosticNote, SourceFile } from './diagnostics.js';
import { findCycles, pathContains, stageEdges } from './graph.js';
import type { Edge } from './graph.js';
import { isGlob } from './hash.js';
import type { Located, StageName } from './pipeline.js';
import type { StageDraft } from './pipeline-shape.js';

/** A path as declared, for messages: `dep "data/raw" of stage "clean"`. */
export function subject(kind: 'cmd' | 'dep' | 'out', path: string, stage: StageName): string {
  return `${kind} "${path}" of stage "${stage}"`;
}

/** True when the path stays inside the workspace as written (symlinks are checked on disk). */
export function isInsideLexically(path: string): boolean {
  return !(isAbsolute(path) || path === '..' || path.startsWith('../'));
}

function isAbsolute(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:\//.test(path);
}

export function pathRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const stage of stages) {
    const paths: [kind: 'cmd' | 'dep' | 'out', path: Located<string>][] = [
      ...(stage.cmd === undefined ? [] : [['cmd', stage.cmd] as ['cmd', Located<string>]]),
      ...stage.deps.map((d) => ['dep', d] as ['dep', Located<string>]),
      ...stage.outs.map((o) => ['out', o] as ['out', Located<string>]),
    ];
    for (const [kind, p] of paths) {
      const what = subject(kind, p.value, stage.name);
      if (isAbsolute(p.value)) {
        found.push(error(file, p.range, `${what} is an absolute path`, 'write it relative to the workspace (the folder that holds pipeline.yaml)'));
      } else if (!isInsideLexically(p.value)) {
        found.push(error(file, p.range, `${what} is outside the workspace`, 'keep every path inside the workspace (the folder that holds pipeline.yaml);\nto use outside data, add a stage that copies it in'));
      } else if (kind === 'out' && isGlob(p.value)) {
        found.push(error(file, p.range, `${what} is a glob`, 'an out names the file or folder the stage writes; list it without wildcards'));
      } else if (kind === 'out' && p.value === '.') {
        found.push(error(file, p.range, `${what} is the whole workspace`, 'give the stage a folder of its own, e.g. data/' + stage.name));
      }
    }
  }
  return found;
}

/** Every out is owned by exactly one stage, and no out lies inside another out. */
export function outRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  const seen: { stage: StageName; out: Located<string> }[] = [];
  for (const stage of stages) {
    for (const out of stage.outs) {
      if (!isInsideLexically(out.value) || isGlob(out.value) || out.value === '.') continue;
      const what = subject('out', out.value, stage.name);
      for (const earlier of seen) {
        const note = (message: string): DiagnosticNote[] => [{ message, file, range: earlier.out.range }];
        const other = `stage "${earlier.stage}"`;
        if (earlier.out.value === out.value) {
          found.push(
            earlier.stage === stage.name
              ? error(file, out.range, `${what} is listed twice`, 'remove one of the two entries', note('first listed here'))
              : error(file, out.range, `${what} is also an out of ${other}`, `exactly one stage writes each out: remove it from one of the two, or give one of them another path`, note(`${other} declares it here`)),
          );
          break; // one conflict per out is enough to fix it
        } else if (pathContains(earlier.out.value, out.value) || pathContains(out.value, earlier.out.value)) {
          const [inner, outer] = pathContains(earlier.out.value, out.value) ? [out.value, earlier.out.value] : [earlier.out.value, out.value];
          const owner = earlier.stage === stage.name ? 'the same stage' : other;
          found.push(
            error(file, out.range, `${what} overlaps out "${earlier.out.value}" of ${owner}: "${inner}" is inside "${outer}"`, `a stage owns the whole folder it writes: move "${inner}" out of "${outer}", or drop one of the two outs`, note(`${owner === other ? other : 'it'} declares "${earlier.out.value}" here`)),
          );
          break;
        }
      }
      seen.push({ stage: stage.name, out });
    }
  }
  return found;
}

/** One diagnostic per cycle, at its first-declared stage, with a located note per edge. */
export function cycleRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const valid = stages.map((s) => ({ ...s, deps: s.deps.filter((d) => isInsideLexically(d.value)), outs: s.outs.filter((o) => isInsideLexically(o.value) && !isGlob(o.value)) }));
  const edges = stageEdges(valid);
  return findCycles(stages.map((s) => s.name), edges).map((cycle) => {
    const first = stages.find((s) => s.name === cycle[0]!.from)!;
    const names = [...cycle.map((e) => e.from), first.name].join(' -> ');
    const message = cycle.length === 1 ? `stage "${first.name}" reads its own out` : `stage "${first.name}" depends on itself through a cycle: ${names}`;
    return error(file, first.nameRange, message, 'a stage cannot read what it writes, directly or through other stages;\nremove one of these deps (or move the out) to break the cycle', cycle.map((e, i) => edgeNote(file, e, i === cycle.length - 1 && cycle.length > 1)));
  });
}

function edgeNote(file: SourceFile, e: Edge, closing: boolean): DiagnosticNote {
  const verb = e.from === e.to ? 'points to itself' : closing ? `points back to "${e.to}"` : `points to "${e.to}"`;
  const how = e.dep.value === e.out.value ? `"${e.to}" reads "${e.dep.value}", which "${e.from}" writes` : `"${e.to}" reads "${e.dep.value}", which overlaps "${e.out.value}" written by "${e.from}"`;
  return { message: `"${e.from}" ${verb}: ${how}`, file, range: e.dep.range };
}
