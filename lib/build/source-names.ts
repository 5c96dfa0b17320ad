// A changed file of an upload-source dep by the name the user knows (plan.ts names files as the
// observation keys them: a folder outside the workspace by its path from it, `../uploads/x`).
import type { StaleReason } from './plan.js';
import type { SourceSeen } from './source-deps.js';

/**
 * Each changed file of a source dep as `gs://b/uploads/x.session.json`,
 * `file:///data/uploads/x.session.json`, or for a folder inside the workspace its workspace path.
 */
export function nameSourceFiles(
  reasons: readonly StaleReason[],
  sources: Readonly<Record<string, SourceSeen>>,
): StaleReason[] {
  return reasons.map((r) => {
    if (r.kind !== 'dep-added' && r.kind !== 'dep-modified' && r.kind !== 'dep-deleted') return r;
    const seen = sources[r.path];
    if (seen?.state !== 'observed' || r.file === undefined) return r;
    const { target } = seen;
    if (target.kind === 'bucket' || target.inside) return r;
    return { ...r, file: `${stripSlash(target.url)}${r.file.slice(target.rel.length)}` };
  });
}

function stripSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
