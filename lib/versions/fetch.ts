// Reading versions from a remote: a ref or ID resolved to an ID, and manifests fetched once.
// Manifests are immutable, so each is kept under .pipe/remotes/<key>/versions/ after it passed
// validation; `pipe versions` and the build cache then cost one list request, not one per version.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { remoteStateDir } from './known-objects.js';
import type { Remote, RemoteError } from '../remote/remote.js';
import { parseRefName, parseVersionId, type VersionId } from '../remote/remote-path.js';
import { parseManifest, type VersionManifest } from './manifest.js';

export type Fetched<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: RemoteError }
  | { readonly ok: false; readonly invalid: string };

/** `target` is a version ID or a ref name (`current`, a tag). */
export async function resolveVersion(remote: Remote, target: string): Promise<Fetched<VersionId>> {
  const id = parseVersionId(target);
  if (id.ok) return { ok: true, value: id.value };
  const ref = parseRefName(target);
  if (!ref.ok)
    return {
      ok: false,
      invalid: `"${target}" is neither a version ID (YYYY-MM-DD_HH-MM-SS_<host>-<user>) nor a ref name`,
    };
  const state = await remote.readRef(ref.value);
  if (!state.ok) return state;
  if (state.value === null)
    return { ok: false, error: { kind: 'not-found', what: `ref ${ref.value}` } };
  return { ok: true, value: state.value.versionId };
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
    return got.error.kind === 'not-found'
      ? { ok: false, error: { kind: 'not-found', what: `version ${id}` } }
      : got;
  const parsed = parseManifest(id, got.value);
  if (!parsed.ok) return { ok: false, invalid: parsed.reason };
  await writeFileAtomic(cached, got.value);
  return parsed;
}
