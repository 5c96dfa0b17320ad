// The checks on a pipeline that need no disk: paths that leave the workspace, outs that two
// stages claim or that nest, scripts that a stage writes, and cycles. Pure; each rule returns
// located diagnostics, so every problem is reported in the same pass.
import { error } from './diagnostics.js';
import type { Diagnostic, DiagnosticNote, SourceFile } from './diagnostics.js';
import { findCycles, stageEdges } from '../graph/graph.js';
import { pathContains } from '../util/paths.js';
import type { Edge } from '../graph/graph.js';
import { isGlob } from '../util/paths.js';
import { cmdScript, isSourceDep, type Located, type StageName } from '../graph/stage.js';
import type { StageDraft } from './shape.js';

export type PathKind = 'cmd' | 'dep' | 'out';

/** A path as declared, for messages: `dep "data/raw" of stage "clean"`. */
export function subject(kind: PathKind, path: string, stage: StageName): string {
  return `${kind} "${path}" of stage "${stage}"`;
}

/**
 * Every path a stage declares, with its kind: its cmd when it is a node script (a command line is
 * not a path; command-line-rules.ts checks it), deps, then outs. An upload-source dep (file://,
 * gs://, ${NAME}) is a URL, not a path: disk-rules.ts checks what it resolves to.
 */
export function declaredPaths(stage: StageDraft): [PathKind, Located<string>][] {
  const script = stage.cmd !== undefined && cmdScript(stage.cmd.value) !== undefined;
  return [
    ...(script ? [['cmd', stage.cmd] as [PathKind, Located<string>]] : []),
    ...stage.deps
      .filter((d) => !isSourceDep(d.value))
      .map((d): [PathKind, Located<string>] => ['dep', d]),
    ...stage.outs.map((o): [PathKind, Located<string>] => ['out', o]),
  ];
}

/** True when the path stays inside the workspace as written (symlinks are checked on disk). */
export function isInsideLexically(path: string): boolean {
  return !(isAbsolute(path) || path === '..' || path.startsWith('../'));
}

function isAbsolute(path: string): boolean {
  return path.startsWith('/') || /^[A-Za-z]:\//.test(path);
}

/** An out the other rules can reason about: inside the workspace, not a glob, not everything. */
function isUsableOut(path: string): boolean {
  return isInsideLexically(path) && !isGlob(path) && path !== '.';
}

/**
 * Names every JavaScript object answers to (`constructor`, `toString`, `__proto__`, ...). A stage
 * name is a key in pipeline.lock, in the stage environment and in many maps inside pipe and the
 * tools that read its files; as a key of an ordinary object such a name finds an inherited
 * function instead of nothing, or (`__proto__`) replaces the object's prototype.
 */
const RESERVED_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

export function reservedNameRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  return stages
    .filter((s) => RESERVED_NAMES.has(s.name))
    .map((s) =>
      error(
        file,
        s.nameRange,
        `stage name "${s.name}" is reserved (a property every JavaScript object has)`,
        `rename the stage, e.g. "${s.name.replace(/^_+|_+$/g, '')}_stage"`,
      ),
    );
}

const inside = 'the workspace (the folder that holds pipeline.yaml)';

export function pathRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const stage of stages) {
    for (const [kind, p] of declaredPaths(stage)) {
      const what = subject(kind, p.value, stage.name);
      if (isAbsolute(p.value)) {
        found.push(
          error(file, p.range, `${what} is an absolute path`, `write it relative to ${inside}`),
        );
      } else if (!isInsideLexically(p.value)) {
        found.push(
          error(
            file,
            p.range,
            `${what} is outside the workspace`,
            kind === 'dep'
              ? `keep every path inside ${inside};\nto read a folder elsewhere, declare it as a URL: file:///abs/path (or \${NAME} holding one)`
              : `keep every path inside ${inside};\nto use outside data, add a stage that copies it in`,
          ),
        );
      } else if (kind === 'out' && isGlob(p.value)) {
        found.push(
          error(
            file,
            p.range,
            `${what} is a glob`,
            'an out names the file or folder the stage writes; list it without wildcards',
          ),
        );
      } else if (kind === 'out' && p.value === '.') {
        found.push(
          error(
            file,
            p.range,
            `${what} is the whole workspace`,
            `give the stage a folder of its own, e.g. data/${stage.name}`,
          ),
        );
      }
    }
  }
  return found;
}

/**
 * Every out is owned by exactly one stage, no out lies inside another, and no stage's node script
 * is an out: scripts are source files, checked to exist before anything runs. One problem per
 * out. A command line may run a program a stage builds (`build/train --fast`): declared as a dep,
 * that is an ordinary edge of the graph.
 */
export function outRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  const seen: { stage: StageName; out: Located<string> }[] = [];
  for (const stage of stages) {
    for (const out of stage.outs.filter((o) => isUsableOut(o.value))) {
      const clash = seen.find(
        (e) => pathContains(e.out.value, out.value) || pathContains(out.value, e.out.value),
      );
      if (clash !== undefined) found.push(outClash(file, stage.name, out, clash));
      seen.push({ stage: stage.name, out });
    }
  }
  for (const stage of stages) {
    const cmd = stage.cmd !== undefined && cmdScript(stage.cmd.value) ? stage.cmd : undefined;
    const writer =
      cmd === undefined ? undefined : seen.find((e) => pathContains(e.out.value, cmd.value));
    if (cmd === undefined || writer === undefined) continue;
    const note: DiagnosticNote = {
      message: `stage "${writer.stage}" declares "${writer.out.value}" here`,
      file,
      range: writer.out.range,
    };
    found.push(
      error(
        file,
        cmd.range,
        `${subject('cmd', cmd.value, stage.name)} is written by stage "${writer.stage}"`,
        'a cmd is a source file kept in git (stages/...), not an output: move the script out of that out',
        [note],
      ),
    );
  }
  return found;
}

function outClash(
  file: SourceFile,
  stage: StageName,
  out: Located<string>,
  earlier: { stage: StageName; out: Located<string> },
): Diagnostic {
  const what = subject('out', out.value, stage);
  const sameStage = earlier.stage === stage;
  const other = `stage "${earlier.stage}"`;
  const note = (message: string): DiagnosticNote[] => [{ message, file, range: earlier.out.range }];
  if (earlier.out.value === out.value) {
    return sameStage
      ? error(
          file,
          out.range,
          `${what} is listed twice`,
          'remove one of the two entries',
          note('first listed here'),
        )
      : error(
          file,
          out.range,
          `${what} is also an out of ${other}`,
          'exactly one stage writes each out: remove it from one of the two, or give one of them another path',
          note(`${other} declares it here`),
        );
  }
  const [inner, outer] = pathContains(earlier.out.value, out.value)
    ? [out.value, earlier.out.value]
    : [earlier.out.value, out.value];
  const owner = sameStage ? 'the same stage' : other;
  return error(
    file,
    out.range,
    `${what} overlaps out "${earlier.out.value}" of ${owner}: "${inner}" is inside "${outer}"`,
    `a stage owns the whole folder it writes: move "${inner}" out of "${outer}", or drop one of the two outs`,
    note(`${sameStage ? 'it' : other} declares "${earlier.out.value}" here`),
  );
}

/** One diagnostic per cycle, at its first-declared stage, with a located note per edge. */
export function cycleRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const usable = stages.map((s) => ({
    ...s,
    deps: s.deps.filter((d) => isInsideLexically(d.value) && !isSourceDep(d.value)),
    outs: s.outs.filter((o) => isUsableOut(o.value)),
  }));
  return findCycles(
    stages.map((s) => s.name),
    stageEdges(usable),
  ).map((cycle) => {
    const first = stages.find((s) => s.name === cycle[0]!.from)!;
    const names = [...cycle.map((e) => e.from), first.name].join(' -> ');
    const message =
      cycle.length === 1
        ? `stage "${first.name}" reads its own out`
        : `stage "${first.name}" depends on itself through a cycle: ${names}`;
    const fix =
      'a stage cannot read what it writes, directly or through other stages;\nremove one of these deps (or move the out) to break the cycle';
    return error(
      file,
      first.nameRange,
      message,
      fix,
      cycle.map((e, i) => edgeNote(file, e, cycle.length > 1 && i === cycle.length - 1)),
    );
  });
}

/** "a points to b" at the dep in b that reads a's out; the edge that closes the loop "points back". */
function edgeNote(file: SourceFile, e: Edge, closing: boolean): DiagnosticNote {
  const verb =
    e.from === e.to
      ? 'points to itself'
      : closing
        ? `points back to "${e.to}"`
        : `points to "${e.to}"`;
  const how =
    e.dep.value === e.out.value
      ? `"${e.to}" reads "${e.dep.value}", which "${e.from}" writes`
      : `"${e.to}" reads "${e.dep.value}", which overlaps "${e.out.value}" written by "${e.from}"`;
  return { message: `"${e.from}" ${verb}: ${how}`, file, range: e.dep.range };
}
