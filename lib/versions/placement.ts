// Where a published version may write, decided once for `pipe pull` and the remote build cache
// alike. A manifest is untrusted input (even a signed one: a teammate's pipeline.yaml may differ
// from ours), so a version may write only:
//   - the outs THIS workspace's pipeline.yaml declares for the stage (never a script, a dep, a
//     tracked file such as stages/keypairs.ts: a version whose stage declares other outs is refused);
//   - files inside those outs, and only files that hash to the stage's lock entry (pipeline.yaml
//     refuses glob outs, so a version's glob out never matches a declared one);
//   - paths that parseManifestPath accepts (no '..', absolute, .git/ or .pipe/), checked again on
//     disk just before writing (workspaceDestination: no symlinked folder on the way).
// Sizes come from the manifest and cap each download (verified-file.ts).
import { isGlob } from '../util/paths.js';
import { manifestHash } from '../observe/hash.js';
import type { Pipeline, StageName } from '../graph/stage.js';
import { err, ok, type Result } from '../util/result.js';
import type { VersionFile, VersionManifest } from './manifest.js';

/** One declared out of a stage in a version, with the files that make it up. */
export interface OutPlacement {
  readonly stage: string;
  readonly out: string;
  readonly kind: 'file' | 'dir' | 'glob';
  readonly files: readonly VersionFile[];
}

export type PlacementProblem =
  /** The version's stages declare other outs than this pipeline.yaml: refused (pull exits 7). */
  | {
      readonly kind: 'outs-differ';
      readonly stages: readonly { stage: string; ours: string[]; theirs: string[] }[];
    }
  /** The version's files do not fit its own outs or lock entries: bad version data (exit 6). */
  | { readonly kind: 'invalid'; readonly message: string };

/** Every out of `stages` with its files, or why the version may not be placed here. */
export function checkPlacement(
  manifest: VersionManifest,
  stages: readonly string[],
  pipeline: Pipeline,
): Result<OutPlacement[], PlacementProblem> {
  const differ = stages.flatMap((s) => {
    const ours = pipeline.stages.get(s as StageName)?.outs.map((o) => o.value) ?? [];
    const theirs = Object.keys(manifest.stages[s]!.lock.outs);
    return sameSet(ours, theirs) ? [] : [{ stage: s, ours, theirs }];
  });
  if (differ.length > 0) return err({ kind: 'outs-differ', stages: differ });
  const result: OutPlacement[] = [];
  for (const stage of stages) {
    const entry = manifest.stages[stage]!;
    const left = new Set(entry.files);
    for (const [out, locked] of Object.entries(entry.lock.outs)) {
      const kind = locked.files === undefined ? 'file' : isGlob(out) ? 'glob' : 'dir';
      const mine = entry.files.filter((f) =>
        kind === 'file'
          ? f.path === out
          : kind === 'dir'
            ? f.path.startsWith(`${out}/`)
            : left.has(f),
      );
      for (const f of mine) left.delete(f);
      const sha = kind === 'file' ? mine[0]?.sha256 : manifestHash(mine, kind === 'dir' ? out : '');
      if ((kind === 'file' && mine.length !== 1) || sha !== locked.sha256) {
        return invalid(
          `version ${manifest.id}: the files of ${stage}'s out ${out} do not hash to its lock entry`,
        );
      }
      result.push({ stage, out, kind, files: mine });
    }
    const stray = [...left][0];
    if (stray !== undefined)
      return invalid(
        `version ${manifest.id}: ${stray.path} is not inside any out of stage ${stage}`,
      );
  }
  return ok(result);
}

function invalid(message: string): Result<never, PlacementProblem> {
  return err({ kind: 'invalid', message });
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');
}
