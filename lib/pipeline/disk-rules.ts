// The checks on a pipeline that look at the workspace's files: a node script cmd that is missing,
// a dep that no stage makes and that is not on disk (or a glob that matches nothing), a path that
// leaves the workspace through a symlink, a command line's program and files
// (command-line-rules.ts), and an upload-source dep whose URL or configuration value is unusable.
//
// Why a glob matching nothing is an error when no stage writes under it: an empty input is almost
// always a typo in the pattern, and a stage run on nothing would "succeed" with empty outputs.
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { closest } from '../util/closest.js';
import { error } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import { globBase, pathContains } from '../util/paths.js';
import { fastGlob, isGlob } from '../util/paths.js';
import { Config } from './config.js';
import { resolveSourceDep } from './source-dep.js';
import { cmdScript, isSourceDep, type Located, type StageName } from '../graph/stage.js';
import { commandLineRules } from './command-line-rules.js';
import type { StageDraft } from './shape.js';
import { declaredPaths, isInsideLexically, subject } from './rules.js';

export async function diskRules(
  root: string,
  file: SourceFile,
  stages: readonly StageDraft[],
): Promise<Diagnostic[]> {
  const realRoot = await realpath(root);
  const outs = stages.flatMap((s) =>
    s.outs.filter((o) => isInsideLexically(o.value)).map((o) => ({ stage: s.name, out: o.value })),
  );
  const checks: Promise<Diagnostic | undefined>[] = [];
  const lineChecks: Promise<Diagnostic[]>[] = [];
  for (const stage of stages) {
    const cmd = stage.cmd;
    if (cmd !== undefined && cmdScript(cmd.value) === undefined)
      lineChecks.push(commandLineRules(root, file, stage, cmd, outs));
    for (const [kind, p] of declaredPaths(stage)) {
      if (!isInsideLexically(p.value)) continue; // reported by pathRules
      checks.push(
        (async () => {
          const escaped = await symlinkEscape(
            root,
            realRoot,
            isGlob(p.value) ? globBase(p.value) : p.value,
          );
          if (escaped !== undefined) {
            return error(
              file,
              p.range,
              `${subject(kind, p.value, stage.name)} leads outside the workspace through the symlink "${escaped.link}"`,
              `"${escaped.link}" points to ${escaped.target}; pipe tracks only files inside the workspace:\ncopy the data in (or add a stage that does), then name the copy`,
            );
          }
          // A cmd that a stage writes is reported by outRules; "missing" would only repeat it.
          if (kind === 'cmd')
            return outs.some((o) => pathContains(o.out, p.value))
              ? undefined
              : missingScript(root, file, stage.name, p);
          if (kind === 'dep') return missingDep(root, file, stage.name, p, outs);
          return undefined;
        })(),
      );
    }
  }
  const found = [...sourceRules(root, file, stages), ...(await Promise.all(checks))].filter(
    (d): d is Diagnostic => d !== undefined,
  );
  return [...found, ...(await Promise.all(lineChecks)).flat()];
}

/**
 * Each upload-source dep names a usable URL, its configuration value is set and holds one. Whether
 * the folder or bucket can be reached is the observation's question (pipe status says it).
 */
function sourceRules(root: string, file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const config = new Config(root);
  const found: Diagnostic[] = [];
  for (const stage of stages) {
    for (const dep of stage.deps.filter((d) => isSourceDep(d.value))) {
      const resolved = resolveSourceDep(dep.value, root, (name) => config.get(name));
      if (!resolved.ok)
        found.push(
          error(
            file,
            dep.range,
            `${subject('dep', dep.value, stage.name)}: ${resolved.error.message}`,
            resolved.error.fix,
          ),
        );
    }
  }
  return found;
}

async function missingScript(
  root: string,
  file: SourceFile,
  stage: StageName,
  cmd: Located<string>,
): Promise<Diagnostic | undefined> {
  const st = await stat(join(root, cmd.value)).catch(() => undefined);
  if (st?.isFile()) return undefined;
  const what = subject('cmd', cmd.value, stage);
  return st === undefined
    ? error(
        file,
        cmd.range,
        `${what} does not exist`,
        'create the script, or fix the path (it is relative to the workspace)',
      )
    : error(
        file,
        cmd.range,
        `${what} is a folder, not a script`,
        `name the script itself, e.g. ${cmd.value}/index.ts`,
      );
}

async function missingDep(
  root: string,
  file: SourceFile,
  stage: StageName,
  dep: Located<string>,
  outs: readonly { stage: StageName; out: string }[],
): Promise<Diagnostic | undefined> {
  const base = isGlob(dep.value) ? globBase(dep.value) : dep.value;
  if (outs.some((o) => pathContains(o.out, base) || pathContains(base, o.out))) return undefined;
  const what = subject('dep', dep.value, stage);
  if (isGlob(dep.value)) {
    if (await matchesAnyFile(root, dep.value)) return undefined;
    return error(
      file,
      dep.range,
      `${what} matches no file, and no stage writes under "${base}"`,
      'fix the pattern or add the files; a stage run on no input is almost always a mistake',
    );
  }
  if ((await lstat(join(root, dep.value)).catch(() => undefined)) !== undefined) return undefined;
  const guess = closest(
    dep.value,
    outs.map((o) => o.out),
  );
  const made = outs.find((o) => o.out === guess);
  const fix =
    made === undefined
      ? 'create it, fix the path, or add it to the outs of the stage that writes it'
      : `did you mean "${made.out}", written by stage "${made.stage}"?`;
  return error(file, dep.range, `${what} does not exist, and no stage makes it`, fix);
}

/**
 * The first symlink along `path` (workspace-relative) whose target lies outside the workspace,
 * walking the existing part of the path one segment at a time. Paths that do not exist yet
 * cannot escape through a link that does not exist.
 */
async function symlinkEscape(
  root: string,
  realRoot: string,
  path: string,
): Promise<{ link: string; target: string } | undefined> {
  if (path === '.') return undefined;
  const segments = path.split('/');
  for (let i = 1; i <= segments.length; i++) {
    const rel = segments.slice(0, i).join('/');
    const st = await lstat(join(root, rel)).catch(() => undefined);
    if (st === undefined) return undefined;
    if (!st.isSymbolicLink()) continue;
    // A dangling link has no realpath: judge where it points, resolved from its own folder.
    const real =
      (await realpath(join(root, rel)).catch(() => undefined)) ??
      resolve(dirname(join(realRoot, rel)), await readlink(join(root, rel)));
    if (!pathContains(realRoot, real)) return { link: rel, target: real };
  }
  return undefined;
}

/** Whether a glob matches at least one file; stops at the first, so a huge folder costs little. */
async function matchesAnyFile(root: string, glob: string): Promise<boolean> {
  const stream = fastGlob().stream(glob, {
    cwd: root,
    onlyFiles: true,
    dot: false,
  }) as NodeJS.ReadableStream & { destroy(): void };
  for await (const _ of stream) {
    stream.destroy();
    return true;
  }
  return false;
}
