// `pipe push`: publish the workspace's outputs as a new version, in the only order that keeps a
// remote consistent whatever is killed when:
//
//   objects the remote lacks (create-only) ─▶ manifest (create-only) ─▶ refs (compare-and-swap)
//
// A push killed before the manifest leaves only unreferenced objects (harmless, reused by the
// re-push); no manifest can name an object that is not already stored.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { byPath } from '../util/paths.js';
import { err, ok } from '../util/result.js';
import type { BuildState } from '../build/build-state.js';
import type { FileHash } from '../observe/types.js';
import type { Sha256Hex } from '../util/sha256.js';
import { KnownObjects, remoteStateDir } from './known-objects.js';
import { observeStage } from '../build/observe-stage.js';
import { staleReasons, type StaleReason } from '../build/plan.js';
import type { Remote, RemoteError, RemoteResult } from '../remote/remote.js';
import { makeVersionId, type RefName, type VersionId } from '../remote/remote-path.js';
import { signManifest } from './signature.js';
import type { SigningKey } from './signing-keys.js';
import { moveRef, type RefMove } from './ref-move.js';
import { readStageTimes } from '../build/stage-times.js';
import { runTransfers, type TransferOptions } from '../remote/transfer-progress.js';
import {
  contentDigest,
  formatManifest,
  type VersionFile,
  type VersionManifest,
  type VersionStage,
} from './manifest.js';

export interface PushOptions {
  readonly notes: string;
  readonly refs: readonly RefName[];
  readonly dryRun: boolean;
  readonly user: string;
  readonly host: string;
  readonly now: Date;
  readonly transfer: Omit<TransferOptions, 'verb'>;
  /** Signs the manifest (signature.ts); absent: an unsigned version, which no build reuses. */
  readonly signer?: SigningKey;
}

export type PushOutcome =
  | {
      readonly kind: 'stale';
      readonly stages: readonly { stage: string; reasons: readonly StaleReason[] }[];
    }
  | { readonly kind: 'nothing-built' }
  | { readonly kind: 'remote-error'; readonly step: string; readonly error: RemoteError }
  | {
      readonly kind: 'pushed';
      readonly versionId: VersionId;
      /** The outputs equal a version this workspace pushed before: no new version was made. */
      readonly unchanged: boolean;
      readonly dryRun: boolean;
      readonly files: number;
      readonly objects: number;
      readonly uploaded: number;
      readonly bytesSent: number;
      readonly refs: readonly RefMove[];
      /** The fingerprint of the key the new version is signed with; null: unsigned. */
      readonly signedWith: string | null;
    };

interface LastPush {
  readonly digest: string;
  readonly versionId: VersionId;
}

export async function push(
  ws: BuildState,
  remote: Remote,
  options: PushOptions,
): Promise<PushOutcome> {
  const collected = await collectStages(ws);
  if ('stale' in collected) return { kind: 'stale', stages: collected.stale };
  const stages = collected.stages;
  if (Object.keys(stages).length === 0) return { kind: 'nothing-built' };
  const localFiles = collected.localFiles;
  const objects = new Map<Sha256Hex, { path: string; size: number }>();
  for (const f of localFiles) objects.set(f.sha256, { path: join(ws.root, f.path), size: f.size });

  const stateDir = remoteStateDir(ws.root, remote.url);
  // The key is part of what was published: after `pipe keys create`, the same outputs are
  // pushed again as a signed version rather than found "unchanged" in an unsigned one.
  const digest = `${contentDigest(stages)}${options.signer === undefined ? '' : ` ${options.signer.fingerprint}`}`;
  const last = readLastPush(stateDir);
  let unchangedId: VersionId | undefined;
  if (options.notes === '' && last?.digest === digest) {
    const listed = await remote.listVersions();
    if (!listed.ok) return { kind: 'remote-error', step: 'listing versions', error: listed.error };
    if (listed.value.includes(last.versionId)) unchangedId = last.versionId;
  }

  const known = KnownObjects.load(ws.root, remote.url);
  const missing = await objectsToSend(remote, known, [...objects.keys()]);
  if (!missing.ok) return { kind: 'remote-error', step: 'checking objects', error: missing.error };
  const summary = {
    files: localFiles.length,
    objects: objects.size,
    uploaded: missing.value.length,
    dryRun: options.dryRun,
  };
  let versionId = unchangedId ?? makeVersionId(options.now, options.host, options.user);
  if (options.dryRun)
    return {
      kind: 'pushed',
      versionId,
      unchanged: unchangedId !== undefined,
      bytesSent: 0,
      refs: [],
      signedWith: options.signer?.fingerprint ?? null,
      ...summary,
    };

  let bytesSent = 0;
  const sent = await runTransfers(
    missing.value.map((sha) => ({
      size: objects.get(sha)!.size,
      run: async () => {
        const result = await remote.putObject(sha, objects.get(sha)!.path, objects.get(sha)!.size);
        if (result.ok) known.add(sha);
        if (result.ok && result.value === 'stored') bytesSent += objects.get(sha)!.size;
        return result;
      },
    })),
    { ...options.transfer, verb: 'uploading' },
  );
  await known.save();
  if (!sent.ok) return { kind: 'remote-error', step: 'uploading objects', error: sent.error };

  if (unchangedId === undefined) {
    const stored = await putNewManifest(remote, stages, options, gitHead(ws.root));
    if (!stored.ok)
      return { kind: 'remote-error', step: 'writing the version manifest', error: stored.error };
    versionId = stored.value;
    await writeFileAtomic(
      join(stateDir, 'last-push.json'),
      `${JSON.stringify({ digest, versionId } satisfies LastPush)}\n`,
    );
  }
  const refs: RefMove[] = [];
  for (const ref of options.refs) {
    const moved = await moveRef(remote, ref, versionId);
    if (!moved.ok) return { kind: 'remote-error', step: `moving ref ${ref}`, error: moved.error };
    refs.push(moved.value);
  }
  return {
    kind: 'pushed',
    versionId,
    unchanged: unchangedId !== undefined,
    bytesSent,
    refs,
    signedWith: options.signer?.fingerprint ?? null,
    ...summary,
  };
}

type Collected =
  | { stale: { stage: string; reasons: StaleReason[] }[] }
  | { stages: Record<string, VersionStage>; localFiles: VersionFile[] };

/** Every built stage's lock entry and files, or the stale stages that forbid a push. */
async function collectStages(ws: BuildState): Promise<Collected> {
  const times = readStageTimes(ws.root);
  const stale: { stage: string; reasons: StaleReason[] }[] = [];
  const stages: Record<string, VersionStage> = {};
  const localFiles: VersionFile[] = [];
  for (const name of ws.graph.order) {
    const observed = await observeStage(ws.observe, ws.pipeline.stages.get(name)!);
    const entry = ws.lock.stages[name];
    const reasons = staleReasons(entry, observed, ws.manifests);
    if (reasons.length > 0 || entry === undefined) {
      stale.push({ stage: name, reasons });
      continue;
    }
    const files: FileHash[] = [];
    for (const out of Object.values(observed.outs)) {
      if (out.kind === 'file') files.push({ path: out.path, sha256: out.sha256, size: out.size });
      else if (out.kind !== 'missing') files.push(...out.files);
    }
    files.sort(byPath);
    const time = times[name];
    const durationMs = time?.fingerprint === entry.fingerprint ? time.durationMs : undefined;
    stages[name] = { lock: entry, files, ...(durationMs === undefined ? {} : { durationMs }) };
    localFiles.push(...files);
  }
  await ws.cache.save();
  return stale.length > 0 ? { stale } : { stages, localFiles };
}

/**
 * The objects the remote lacks. Trust the local record, but verify: when it claims the remote
 * has everything, one list request over the fan-out folder of a random object checks a sample;
 * any object missing there drops the record and the remote is asked about everything.
 */
async function objectsToSend(
  remote: Remote,
  known: KnownObjects,
  shas: readonly Sha256Hex[],
): Promise<RemoteResult<Sha256Hex[]>> {
  let unknown = shas.filter((s) => !known.has(s));
  if (unknown.length === 0 && shas.length > 0) {
    const folder = shas[Math.floor(Math.random() * shas.length)]!.slice(0, 2);
    const sample = shas.filter((s) => s.startsWith(folder));
    const present = await remote.hasObjects(sample);
    if (!present.ok) return present;
    if (present.value.size !== sample.length) {
      known.forgetAll();
      unknown = [...shas];
    }
  }
  if (unknown.length === 0) return ok([]);
  const present = await remote.hasObjects(unknown);
  if (!present.ok) return present;
  for (const sha of present.value) known.add(sha);
  return ok(unknown.filter((s) => !present.value.has(s)));
}

/**
 * Writes the manifest create-only under an ID from the clock at the moment of writing. An ID
 * already taken (another push by this user@host in the same millisecond) is retried at a later
 * millisecond, waiting for the clock to reach it: IDs never run ahead of time.
 */
async function putNewManifest(
  remote: Remote,
  stages: Record<string, VersionStage>,
  options: PushOptions,
  gitCommit: string | undefined,
): Promise<RemoteResult<VersionId>> {
  let last = options.now.getTime() - 1;
  let id: VersionId | undefined;
  for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
    while (Date.now() <= last) await new Promise((r) => setTimeout(r, 1));
    last = Date.now();
    const when = new Date(last);
    id = makeVersionId(when, options.host, options.user);
    const manifest: VersionManifest = {
      format: 1,
      id,
      pushedBy: `${options.user}@${options.host}`,
      pushedAt: when.toISOString(),
      ...(gitCommit === undefined ? {} : { gitCommit }),
      notes: options.notes,
      stages,
    };
    const signed = options.signer === undefined ? manifest : signManifest(manifest, options.signer);
    const put = await remote.putManifest(id, formatManifest(signed));
    if (put.ok) return ok(id);
    if (put.error.kind !== 'exists') return err(put.error);
  }
  return err({ kind: 'exists', what: `version ${id} (and ${MAX_ID_ATTEMPTS - 1} IDs before it)` });
}

/** Each failed attempt is a round trip in which another push took the millisecond: ample. */
const MAX_ID_ATTEMPTS = 1000;

function gitHead(workspace: string): string | undefined {
  try {
    return (
      execFileSync('git', ['rev-parse', '--verify', 'HEAD'], {
        cwd: workspace,
        stdio: ['ignore', 'pipe', 'ignore'],
        encoding: 'utf8',
      }).trim() || undefined
    );
  } catch {
    return undefined; // not a git checkout, or git is not installed
  }
}

function readLastPush(stateDir: string): LastPush | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'last-push.json'), 'utf8')) as LastPush;
  } catch {
    return undefined;
  }
}
