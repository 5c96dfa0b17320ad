// Moving a ref (`current`, a tag) to a version by compare-and-swap, never by overwrite.
//
// What a ref means: the NEWEST version (compareVersionIds: the UTC time in its ID, i.e. when its
// manifest was written) of those that pushes asked to point it at. A push never moves a ref
// backwards, whether it loses a race or simply arrives late: two racing `--set-current` pushes
// leave `current` at the newer version whatever order their requests land in.
//
//   read ref (version v, generation g) ─ v newer than ours ─▶ kept (we do not roll a teammate back)
//                     └─ otherwise ─▶ casRef(ours, expect g) ─ won ─▶ moved
//                                                          └─ lost (412) ─▶ re-read:
//        now at ours (our own retried request landed) ─▶ moved
//        now at a NEWER version (a teammate published after us) ─▶ kept
//        otherwise ─▶ try again from the new generation (bounded)
import type { Remote, RemoteResult } from '../remote/remote.js';
import { compareVersionIds, type RefName, type VersionId } from '../remote/remote-path.js';

export interface RefMove {
  readonly ref: RefName;
  /** moved: now at our version; already: it was there; kept: it points at a newer version. */
  readonly result: 'moved' | 'already' | 'kept';
  /** Where the ref points after the attempt. */
  readonly versionId: VersionId;
}

/** Every lost CAS means another writer won, so this bounds a pathological pile-up, not progress. */
const MAX_ATTEMPTS = 64;

export async function moveRef(
  remote: Remote,
  ref: RefName,
  versionId: VersionId,
): Promise<RemoteResult<RefMove>> {
  const read = await remote.readRef(ref);
  if (!read.ok) return read;
  let state = read.value;
  if (state?.versionId === versionId)
    return { ok: true, value: { ref, result: 'already', versionId } };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (state !== null && compareVersionIds(state.versionId, versionId) > 0)
      return { ok: true, value: { ref, result: 'kept', versionId: state.versionId } };
    const cas = await remote.casRef(ref, versionId, state?.generation ?? null);
    if (cas.ok) return { ok: true, value: { ref, result: 'moved', versionId } };
    if (cas.error.kind !== 'conflict') return cas;
    state = cas.error.current;
    if (state?.versionId === versionId)
      return { ok: true, value: { ref, result: 'moved', versionId } };
  }
  return { ok: false, error: { kind: 'conflict', ref, current: state } };
}
