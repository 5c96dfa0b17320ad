// The checks on a cmd that is a command line (`python3 train.py`), against the workspace and
// this machine. A command line is shell text, so these read only what the shell would take
// literally and stay silent about the rest (quotes, expansions, pipes):
//
//   python4 train.py      warning: "python4" is not on PATH
//   scripts/train.sh      error:   "scripts/train.sh" does not exist (or is a folder, or is not
//                                  executable), unless a stage writes it
//   python3 train.py      warning: train.py is a workspace file the stage does not declare as a
//                                  dep, so editing it would not make the stage stale
//
// Why a program missing from PATH is a warning, not an error: PATH is this machine's, and the
// stage may never run here (a teammate who only runs `pipe status` or `pipe pull`, a stage that
// comes from the remote build cache, a CI job that checks the pipeline). If it does run, it fails
// with exit code 127 and the shell's own message. A program named by a workspace path is part of
// the workspace, like a node script, so its absence is an error, as a missing script's is.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Located, StageName } from '../graph/stage.js';
import { globBase, isGlob, pathContains } from '../util/paths.js';
import { error, warning } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import { isInsideLexically } from './rules.js';
import { normalisePath, type StageDraft } from './shape.js';

/** Words bash runs itself, never from PATH: its keywords and builtins (`compgen -k -b`). */
const SHELL_OWN = new Set(
  (
    'if then else elif fi case esac for select while until do done in function time { } ! [[ ]] ' +
    'coproc . : [ alias bg bind break builtin caller cd command compgen complete compopt continue ' +
    'declare dirs disown echo enable eval exec exit export false fc fg getopts hash help history ' +
    'jobs kill let local logout mapfile popd printf pushd pwd read readarray readonly return set ' +
    'shift shopt source suspend test times trap true type typeset ulimit umask unalias unset wait'
  ).split(' '),
);

/** A word the shell takes as written: no quotes, expansions, globs, redirections or operators. */
const LITERAL = /^[A-Za-z0-9_./@%+,:=-]+$/;
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The program a command line starts, when its first word (after `NAME=value` assignments) is
 * literal and not the shell's own: `python3` in `LC_ALL=C python3 train.py`; undefined for
 * `"$TOOL" x`, `cd data && make`, `(cd x; y)`.
 */
export function programOf(line: string): string | undefined {
  const words = line.trim().split(/\s+/);
  const word = words.find((w) => !ASSIGNMENT.test(w));
  return word !== undefined && LITERAL.test(word) && !SHELL_OWN.has(word) ? word : undefined;
}

/**
 * The words of a command line that may name a workspace file (`train.py`, `'sql/q.sql'`): split
 * at blanks and shell operators, surrounding quotes dropped, literal, with a `/` or a `.` in them.
 */
export function pathWords(line: string): string[] {
  return line
    .split(/[\s;|&<>()]+/)
    .map((w) => w.replace(/^['"]+|['"]+$/g, ''))
    .filter((w) => LITERAL.test(w) && /[./]/.test(w) && !w.startsWith('-') && !w.includes('='))
    .map(normalisePath)
    .filter((w) => w !== '.' && isInsideLexically(w));
}

interface Outs {
  readonly stage: StageName;
  readonly out: string;
}

export async function commandLineRules(
  root: string,
  file: SourceFile,
  stage: StageDraft,
  cmd: Located<string>,
  outs: readonly Outs[],
): Promise<Diagnostic[]> {
  const made = (path: string): boolean =>
    outs.some((o) => pathContains(o.out, normalisePath(path)));
  const program = programOf(cmd.value);
  const [programProblem, undeclared] = await Promise.all([
    program === undefined || made(program)
      ? undefined
      : programDiagnostic(root, file, stage.name, cmd, program),
    undeclaredFiles(root, stage, cmd.value, made),
  ]);
  const what = `the cmd of stage "${stage.name}"`;
  return [
    ...(programProblem === undefined ? [] : [programProblem]),
    ...undeclared.map((path) =>
      warning(
        file,
        cmd.range,
        `${what} names "${path}", which is not one of its deps: editing it will not make the stage stale`,
        `add it to the stage's deps: deps: [${path}]`,
      ),
    ),
  ];
}

async function programDiagnostic(
  root: string,
  file: SourceFile,
  stage: StageName,
  cmd: Located<string>,
  program: string,
): Promise<Diagnostic | undefined> {
  // The snippet under the message shows the whole line; the message names only the program.
  const what = `the cmd of stage "${stage}" runs "${program}"`;
  if (isAbsolute(program)) {
    if (await isExecutableFile(program)) return undefined;
    return warning(
      file,
      cmd.range,
      `${what}, which is not an executable file on this machine`,
      'install it there, or name it without a folder to find it on PATH',
    );
  }
  if (program.includes('/')) {
    const st = await stat(join(root, program)).catch(() => undefined);
    if (st === undefined)
      return error(
        file,
        cmd.range,
        `${what}, which does not exist`,
        'create it, or fix the path (it is relative to the workspace);\nto run a program on PATH, name it without a folder',
      );
    if (!st.isFile())
      return error(file, cmd.range, `${what}, which is a folder`, 'name the program itself');
    if (await isExecutableFile(join(root, program))) return undefined;
    return error(
      file,
      cmd.range,
      `${what}, which is not executable`,
      `make it executable (chmod +x ${program}; git keeps the mode), or name its interpreter: sh ${program}`,
    );
  }
  if (await onPath(program)) return undefined;
  const local = await stat(join(root, program)).catch(() => undefined);
  return warning(
    file,
    cmd.range,
    `${what}, which is not on PATH`,
    local?.isFile()
      ? `the shell looks "${program}" up on PATH; to run the workspace file, write ./${program}`
      : 'install it, or fix the name; until then the stage fails with exit code 127',
  );
}

/** Workspace files the command line names that no dep of the stage and no out covers. */
async function undeclaredFiles(
  root: string,
  stage: StageDraft,
  line: string,
  made: (path: string) => boolean,
): Promise<string[]> {
  const declared = (path: string): boolean =>
    stage.deps.some((d) => pathContains(isGlob(d.value) ? globBase(d.value) : d.value, path));
  const candidates = [...new Set(pathWords(line))].filter((w) => !declared(w) && !made(w));
  const isFile = await Promise.all(
    candidates.map(async (w) => (await stat(join(root, w)).catch(() => undefined))?.isFile()),
  );
  return candidates.filter((_, i) => isFile[i] === true);
}

async function onPath(program: string): Promise<boolean> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of dirs) if (await isExecutableFile(join(dir, program))) return true;
  return false;
}

async function isExecutableFile(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (st === undefined || !st.isFile()) return false;
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}
