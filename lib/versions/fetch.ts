// Reading versions from a remote: a ref or ID resolved to an ID, and manifests fetched once.
// Manifests are immutable, so each is kept under .pipe/remotes/<key>/versions/ after it passed
// validation; `pipe versions` and the build cache then cost one list request, not one per version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { remoteStateDir } from './known-objects.js';
import type { Remote } from '../remote/remote.js';
import { parseRefName, parseVersionId, type VersionId } from '../remote/remote-path.js';
import { err, ok, type Result } from '../util/result.js';
import { parseManifest, type VersionManifest } from './manifest.js';
import { invalidVersion, type VersionError } from './version-error.js';

export type Fetched<T> = Result<T, VersionError>;

/** `target` is a version ID or a ref name (`current`, a tag). */
export async function resolveVersion(remote: Remote, target: string): Promise<Fetched<VersionId>> {
  const id = parseVersionId(target);
  if (id.ok) return id;
  const ref = parseRefName(target);
  if (!ref.ok)
    return err(
      invalidVersion(
        `"${target}" is neither a version ID (YYYY-MM-DD_HH-MM-SS_<host>-<user>) nor a ref name`,
      ),
    );
  const state = await remote.readRef(ref.value);
  if (!state.ok) return state;
  if (state.value === null) return err({ kind: 'not-found', what: `ref ${ref.value}` });
  return ok(state.value.versionId);
}

export async function fetchManifest(
  remote: Remote,
  workspace: string,
  id: VersionId,
): Promise<Fetched<VersionManifest>> {
  const cached = join(remoteStateDir(workspace, remote.url), 'versions', `${id}.json`);
  let text: string | undefined;
  try {
    text = readFileSync(cached, 'utf8');
  } catch {
    text = undefined;
  }
  const local = text === undefined ? undefined : parseManifest(id, text);
  if (local?.ok) return local;
  const got = await remote.getManifest(id);
  if (!got.ok)
    return got.error.kind === 'not-found' ? err({ kind: 'not-found', what: `version ${id}` }) : got;
  const parsed = parseManifest(id, got.value);
  if (!parsed.ok) return err(invalidVersion(parsed.error));
  await writeFileAtomic(cached, got.value);
  return parsed;
}
