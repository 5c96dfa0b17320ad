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
import { fetchManifest } from './fetch.js';
import { selectStagesToPush, type StageJudgement } from './push-selection.js';
import type { StageName } from '../graph/stage.js';
import { observeStage } from '../build/observe-stage.js';
import { staleReasons, type StaleReason } from '../build/plan.js';
import type { Remote, RemoteError, RemoteResult } from '../remote/remote.js';
import { makeVersionId, type RefName, type VersionId } from '../remote/remote-path.js';
import { signManifest } from './signature.js';
import { fingerprintOf, type SigningKey } from './signing-keys.js';
import { moveRef, type RefMove } from './ref-move.js';
import { readStageTimes } from '../build/stage-times.js';
import { runTransfers, type TransferOptions } from '../remote/transfer-progress.js';
import {
  contentDigest,
  formatManifest,
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
  /** Stages named on the command line (with their upstream); empty: every fresh stage. */
  readonly stages?: readonly StageName[];
  /** Signs the manifest (signature.ts); absent: an unsigned version, which no build reuses. */
  readonly signer?: SigningKey;
}

export type PushOutcome =
  | {
      readonly kind: 'stale';
      readonly stages: readonly { stage: string; reasons: readonly StaleReason[] }[];
    }
  | {
      readonly kind: 'nothing-built';
      readonly leftOut: readonly StageJudgement[];
    }
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
      /** The stages published, and those a default push left out (with why). */
      readonly stages: readonly StageName[];
      readonly leftOut: readonly StageJudgement[];
      /** A new record was made for --notes although `sameAs` already holds these outputs. */
      readonly sameAs?: VersionId;
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
  const selection = selectStagesToPush(ws.graph, collected.judged, options.stages ?? []);
  if (selection.blocking.length > 0) return { kind: 'stale', stages: selection.blocking };
  if (selection.publish.length === 0) return { kind: 'nothing-built', leftOut: selection.leftOut };
  const stages = Object.fromEntries(selection.publish.map((s) => [s, collected.built.get(s)!]));
  const localFiles = selection.publish.flatMap((s) => collected.built.get(s)!.files);
  const objects = new Map<Sha256Hex, { path: string; size: number }>();
  for (const f of localFiles) objects.set(f.sha256, { path: join(ws.root, f.path), size: f.size });

  const stateDir = remoteStateDir(ws.root, remote.url);
  // The key is part of what was published: after `pipe keys create`, the same outputs are
  // pushed again as a signed version rather than found "unchanged" in an unsigned one.
  const digest = `${contentDigest(stages)}${options.signer === undefined ? '' : ` ${options.signer.fingerprint}`}`;
  const holder = await versionHolding(
    ws,
    remote,
    stages,
    readLastPush(stateDir),
    digest,
    options.signer?.fingerprint,
  );
  if (!holder.ok) return { kind: 'remote-error', step: 'listing versions', error: holder.error };
  // A note is a new record by request; refs alone point at the version that holds the outputs.
  const unchangedId = options.notes === '' ? holder.value : undefined;
  const selected = {
    stages: selection.publish,
    leftOut: selection.leftOut,
    ...(holder.value !== undefined && unchangedId === undefined ? { sameAs: holder.value } : {}),
  };

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
      ...selected,
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
    ...selected,
  };
}

interface Collected {
  /** Every stage's reasons against its lock entry (empty: fresh). */
  readonly judged: Map<StageName, readonly StaleReason[]>;
  /** Each fresh stage's lock entry and files. */
  readonly built: Map<StageName, VersionStage>;
}

/** Every stage judged against its lock entry; the fresh ones with their files. */
async function collectStages(ws: BuildState): Promise<Collected> {
  const times = readStageTimes(ws.root);
  const judged = new Map<StageName, readonly StaleReason[]>();
  const built = new Map<StageName, VersionStage>();
  for (const name of ws.graph.order) {
    const observed = await observeStage(ws.observe, ws.pipeline.stages.get(name)!);
    const entry = ws.lock.stages[name];
    const reasons = staleReasons(entry, observed, ws.manifests);
    if (reasons.length > 0 || entry === undefined) {
      judged.set(name, reasons.length > 0 ? reasons : [{ kind: 'never-built' }]);
      continue;
    }
    judged.set(name, []);
    const files: FileHash[] = [];
    for (const out of Object.values(observed.outs)) {
      if (out.kind === 'file') files.push({ path: out.path, sha256: out.sha256, size: out.size });
      else if (out.kind !== 'missing') for (const f of out.files) files.push(f);
    }
    files.sort(byPath);
    const time = times[name];
    const durationMs = time?.fingerprint === entry.fingerprint ? time.durationMs : undefined;
    built.set(name, { lock: entry, files, ...(durationMs === undefined ? {} : { durationMs }) });
  }
  await ws.cache.save();
  return { judged, built };
}

/**
 * A version on the remote that already holds exactly these stages' outputs, newest first: the
 * one this workspace last pushed (no listing of manifests needed), else any pushed by anyone
 * (a teammate, or this checkout before a fresh clone), found by reading the manifests.
 */
async function versionHolding(
  ws: BuildState,
  remote: Remote,
  stages: Record<string, VersionStage>,
  last: LastPush | undefined,
  digest: string,
  signer: string | undefined,
): Promise<RemoteResult<VersionId | undefined>> {
  const listed = await remote.listVersions();
  if (!listed.ok) return listed;
  if (last?.digest === digest && listed.value.includes(last.versionId)) return ok(last.versionId);
  for (const id of [...listed.value].reverse()) {
    const manifest = await fetchManifest(remote, ws.root, id);
    if (!manifest.ok) continue; // an unreadable version holds nothing we can point at
    // With a signing key, only a version signed by that key holds what this push would publish.
    const key = manifest.value.signature?.publicKey;
    if (signer !== undefined && (key === undefined || fingerprintOf(key) !== signer)) continue;
    const theirs = manifest.value.stages;
    if (Object.keys(theirs).length !== Object.keys(stages).length) continue;
    const same = Object.keys(stages).every(
      (name) =>
        theirs[name] !== undefined &&
        contentDigest({ [name]: theirs[name] }) === contentDigest({ [name]: stages[name]! }),
    );
    if (same) return ok(id);
  }
  return ok(undefined);
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
