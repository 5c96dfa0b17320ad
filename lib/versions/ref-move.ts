// Moving a ref (`current`, a tag) to a version by compare-and-swap, never by overwrite.
//
//   read ref (version v, generation g) ─▶ casRef(ours, expect g) ─ won ─▶ moved
//                                                          └─ lost (412) ─▶ re-read:
//        now at ours (our own retried request landed) ─▶ moved
//        now at a NEWER version (a teammate published after us) ─▶ kept: we do not roll them back
//        otherwise ─▶ try again from the new generation (bounded)
import type { Remote, RemoteResult } from '../remote/remote.js';
import type { RefName, VersionId } from '../remote/remote-path.js';

export interface RefMove {
  readonly ref: RefName;
  /** moved: now at our version; already: it was there; kept: someone moved it to a newer version first. */
  readonly result: 'moved' | 'already' | 'kept';
  /** Where the ref points after the attempt. */
  readonly versionId: VersionId;
}

const MAX_ATTEMPTS = 8;

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
    const cas = await remote.casRef(ref, versionId, state?.generation ?? null);
    if (cas.ok) return { ok: true, value: { ref, result: 'moved', versionId } };
    if (cas.error.kind !== 'conflict') return cas;
    state = cas.error.current;
    if (state?.versionId === versionId)
      return { ok: true, value: { ref, result: 'moved', versionId } };
    // IDs start with the UTC time, so a larger ID was pushed later.
    if (state !== null && state.versionId > versionId)
      return { ok: true, value: { ref, result: 'kept', versionId: state.versionId } };
  }
  return { ok: false, error: { kind: 'conflict', ref, current: state } };
}
