// Outs that would let a build clobber the workspace itself. A stage's outs are deleted and
// replaced on every run, so an out on `.git/hooks` wipes the hooks (and a stage could plant its
// own), an out on `.pipe` or `pipeline.lock` destroys pipe's own state mid-build, and an out on
// pipeline.yaml, params.yaml, config/ or node_modules replaces what decides how the build runs.
// Refused before anything runs, each at its place with the fix.
//
// Names are compared without regard to case: on a case-insensitive file system (macOS, Windows)
// `.Git/hooks` is `.git/hooks`.
import { lstat, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { error } from './diagnostics.js';
import type { Diagnostic, SourceFile } from './diagnostics.js';
import type { Located } from '../graph/stage.js';
import { pathContains } from '../util/paths.js';
import type { StageDraft } from './shape.js';
import { isInsideLexically, subject } from './rules.js';

/** Workspace-relative paths no out may be, lie in, or hold; each with why, for the message. */
const PROTECTED: readonly { readonly path: string; readonly what: string }[] = [
  { path: '.git', what: "git's repository (history, hooks, config)" },
  { path: '.pipe', what: "pipe's own state (caches, logs, temp folders, the build mutex)" },
  { path: 'pipeline.lock', what: 'the lock file pipe writes after each stage' },
  { path: 'pipeline.yaml', what: 'the pipeline definition' },
  { path: 'params.yaml', what: "the stages' parameters" },
  { path: 'config', what: "the workspace's configuration" },
  { path: 'node_modules', what: 'the installed packages the stages import' },
  { path: 'package.json', what: 'the package manifest node resolves imports with' },
];

/** The protected path `out` is, lies in, or holds; undefined for an ordinary out. */
export function protectedPathOf(out: string): { path: string; what: string } | undefined {
  const lower = out.toLowerCase();
  return PROTECTED.find((p) => pathContains(p.path, lower) || pathContains(lower, p.path));
}

function refusal(
  file: SourceFile,
  stage: StageDraft,
  out: Located<string>,
  hit: { path: string; what: string },
  how: string,
): Diagnostic {
  return error(
    file,
    out.range,
    `${subject('out', out.value, stage.name)} ${how}`,
    `"${hit.path}" is ${hit.what}; a stage's outs are deleted and rewritten on every run:\nwrite the stage's output to a folder of its own, e.g. data/${stage.name}`,
  );
}

/** Outs that name a protected path as written. Pure. */
export function protectedOutRules(file: SourceFile, stages: readonly StageDraft[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const stage of stages) {
    for (const out of stage.outs) {
      if (!isInsideLexically(out.value) || out.value === '.') continue; // reported by pathRules
      const hit = protectedPathOf(out.value);
      if (hit === undefined) continue;
      const how = pathContains(hit.path, out.value.toLowerCase())
        ? out.value.toLowerCase() === hit.path
          ? `would overwrite "${hit.path}"`
          : `lies inside "${hit.path}"`
        : `holds "${hit.path}"`;
      found.push(refusal(file, stage, out, hit, how));
    }
  }
  return found;
}

/**
 * Outs whose existing part runs through a symlink into a protected path (`data -> .git`, out
 * `data/meta`). A link that leaves the workspace is disk-rules.ts's to report.
 */
export async function protectedOutLinks(
  root: string,
  file: SourceFile,
  stages: readonly StageDraft[],
): Promise<Diagnostic[]> {
  const realRoot = await realpath(root);
  const checks = stages.flatMap((stage) =>
    stage.outs
      .filter((o) => isInsideLexically(o.value) && o.value !== '.')
      .filter((o) => protectedPathOf(o.value) === undefined)
      .map(async (out) => {
        const through = await throughLink(root, realRoot, out.value);
        if (through === undefined) return undefined;
        const hit = protectedPathOf(through.real);
        if (hit === undefined) return undefined;
        return refusal(
          file,
          stage,
          out,
          hit,
          `leads into "${through.real}" through the symlink "${through.link}"`,
        );
      }),
  );
  return (await Promise.all(checks)).filter((d): d is Diagnostic => d !== undefined);
}

/**
 * Where `path` really is (workspace-relative) when one of its existing segments is a symlink
 * that stays inside the workspace; undefined when no link is on the way.
 */
async function throughLink(
  root: string,
  realRoot: string,
  path: string,
): Promise<{ link: string; real: string } | undefined> {
  const segments = path.split('/');
  for (let i = 1; i <= segments.length; i++) {
    const rel = segments.slice(0, i).join('/');
    const st = await lstat(join(root, rel)).catch(() => undefined);
    if (st === undefined) return undefined;
    if (!st.isSymbolicLink()) continue;
    const target = await realpath(join(root, rel)).catch(() => undefined);
    if (target === undefined) return undefined;
    const inWorkspace = relative(realRoot, target);
    if (inWorkspace.startsWith('..')) return undefined; // leaves the workspace: disk-rules.ts
    const rest = segments.slice(i);
    const real =
      inWorkspace === ''
        ? rest.join('/') || '.'
        : [inWorkspace.split(sep).join('/'), ...rest].join('/');
    return { link: rel, real };
  }
  return undefined;
}
