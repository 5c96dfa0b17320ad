// Names that come from a remote or a manifest are untrusted input: a teammate's buggy push, or a
// hostile bucket, must never make pull write outside the workspace or a key leave the prefix.
// Everything here is pure except workspaceDestination, which must look at the disk (symlinks).
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { err, ok, type Result } from '../util/result.js';
import type { Sha256Hex } from '../util/sha256.js';

/**
 * `YYYY-MM-DD_HH-MM-SS-mmm_<host>-<user>` (UTC, milliseconds), host and user sanitised; see
 * makeVersionId. IDs without `-mmm` (pipe before milliseconds) are still read.
 */
export type VersionId = string & { readonly __brand: 'VersionId' };
/** A movable name on the remote (`current`, a tag). */
export type RefName = string & { readonly __brand: 'RefName' };

/** A checked name or path, or why it was refused (one sentence naming the offending text). */
export type PathCheck<T> = Result<T, string>;

const VERSION_ID =
  /^(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})(-\d{3})?_[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?$/;
const REF_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})$/;
const SHA256 = /^[0-9a-f]{64}$/;

/** Lower-case letters, digits and single dashes, at most 40 characters; '' becomes 'unknown'. */
export function sanitiseNamePart(raw: string): string {
  const clean = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return clean === '' ? 'unknown' : clean;
}

/**
 * The ID a push whose manifest is written at `when` by `user` on `host` gets. UTC, so teammates'
 * clocks sort; milliseconds, so one user@host can push many versions a second (push.ts retries a
 * taken ID at a later millisecond, never ahead of the clock).
 */
export function makeVersionId(when: Date, host: string, user: string): VersionId {
  const iso = when.toISOString(); // 2026-11-26T11:51:41.123Z
  const date = iso.slice(0, 10);
  const time = `${iso.slice(11, 19).replaceAll(':', '-')}-${iso.slice(20, 23)}`;
  return `${date}_${time}_${sanitiseNamePart(host)}-${sanitiseNamePart(user)}` as VersionId;
}

export function parseVersionId(raw: string): PathCheck<VersionId> {
  return VERSION_ID.test(raw)
    ? ok(raw as VersionId)
    : err(
        `"${raw}" is not a version ID (expected YYYY-MM-DD_HH-MM-SS-mmm_<host>-<user>, lower-case)`,
      );
}

/** When the version was published (UTC, the pusher's clock), as its ID says. */
export function versionIdTime(id: VersionId): Date {
  const m = VERSION_ID.exec(id)!;
  const [date, time] = m[1]!.split('_') as [string, string];
  return new Date(`${date}T${time.replaceAll('-', ':')}.${m[2]?.slice(1) ?? '000'}Z`);
}

/**
 * Oldest first: by the time in the ID (an ID without milliseconds counts as .000), then by the
 * whole ID. Plain string order agrees except between the two ID forms within one second.
 */
export function compareVersionIds(a: VersionId, b: VersionId): number {
  const byTime = versionIdTime(a).getTime() - versionIdTime(b).getTime();
  return byTime !== 0 ? byTime : a < b ? -1 : a > b ? 1 : 0;
}

/** The version a file in versions/ holds (`<id>.json`); a push's temp file there holds none. */
export function versionIdOfFile(name: string): VersionId | undefined {
  if (!name.endsWith('.json')) return undefined;
  const id = parseVersionId(name.slice(0, -'.json'.length));
  return id.ok ? id.value : undefined;
}

export function parseRefName(raw: string): PathCheck<RefName> {
  if (!REF_NAME.test(raw) || raw.includes('..')) {
    return err(`"${raw}" is not a ref name (letters, digits, '.', '_', '-'; at most 63; no '..')`);
  }
  return ok(raw as RefName);
}

export function parseSha256(raw: string): PathCheck<Sha256Hex> {
  return SHA256.test(raw) ? ok(raw as Sha256Hex) : err(`"${raw}" is not a lower-case hex sha256`);
}

export { parseKeyPrefix } from '../util/store-url.js';

/**
 * The keys a remote uses, all below `prefix`. Inputs are branded, so they were validated; the
 * objects fan out by the first two hex digits so no folder grows past ~1/256 of the store.
 */
export const remoteKeys = {
  object: (prefix: string, sha: Sha256Hex) => under(prefix, `objects/${sha.slice(0, 2)}/${sha}`),
  objectsFolder: (prefix: string, twoHex?: string) =>
    under(prefix, twoHex === undefined ? 'objects/' : `objects/${twoHex}/`),
  version: (prefix: string, id: VersionId) => under(prefix, `versions/${id}.json`),
  versionsFolder: (prefix: string) => under(prefix, 'versions/'),
  ref: (prefix: string, name: RefName) => under(prefix, `refs/${name}.json`),
  refsFolder: (prefix: string) => under(prefix, 'refs/'),
};

function under(prefix: string, rest: string): string {
  return prefix === '' ? rest : `${prefix}/${rest}`;
}

/** Folders a manifest may never write into: git's own data and pipe's state. */
const FORBIDDEN_TOP = new Set(['.git', '.pipe']);

/**
 * A workspace-relative POSIX path from a manifest. Rejects what could escape or confuse:
 * empty, NUL, backslash (a Windows separator that POSIX keeps in a name), absolute or drive
 * paths, empty / '.' / '..' segments, and anything under .git or .pipe.
 */
export function parseManifestPath(raw: string): PathCheck<string> {
  if (raw === '') return err('empty path');
  if (raw.includes('\0')) return err(`path ${JSON.stringify(raw)} contains a NUL byte`);
  if (raw.includes('\\')) return err(`path "${raw}" contains a backslash`);
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return err(`path "${raw}" is absolute`);
  if (raw.length > 4096) return err(`path "${raw.slice(0, 40)}..." is longer than 4096 characters`);
  const segments = raw.split('/');
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..') {
      return err(`path "${raw}" has a "${segment === '' ? '//' : segment}" segment`);
    }
  }
  if (FORBIDDEN_TOP.has(segments[0]!)) return err(`path "${raw}" is inside ${segments[0]}/`);
  return ok(raw);
}

/**
 * The absolute path pull may write `rel` to, checked against the disk as it is now: every
 * existing folder on the way must be a real folder, not a symlink (a symlinked `data/` could
 * point anywhere). The file itself may be a symlink: writers rename over it, which replaces the
 * link, never its target. Checked just before writing; a concurrent attacker with write access
 * to the workspace is out of scope (they could edit the files directly).
 */
export async function workspaceDestination(
  workspace: string,
  rel: string,
): Promise<PathCheck<string>> {
  const checked = parseManifestPath(rel);
  if (!checked.ok) return checked;
  const segments = checked.value.split('/');
  let folder = workspace;
  for (const segment of segments.slice(0, -1)) {
    folder = join(folder, segment);
    let st: Stats;
    try {
      st = await lstat(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break; // the rest gets created as real folders
      throw error;
    }
    if (st.isSymbolicLink()) return err(`path "${rel}" goes through the symlink ${folder}`);
    if (!st.isDirectory())
      return err(`path "${rel}" goes through ${folder}, which is not a folder`);
  }
  return ok(join(workspace, ...segments));
}
