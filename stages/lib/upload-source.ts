// Where uploads come from: a file:// folder or a gs:// bucket prefix, behind one small interface
// so download's manifest logic does not care which. Each source mirrors its uploads into the temp
// data/raw and says what it mirrored, with the identity that tells "changed" from "unchanged":
// sha256 for files (file-mirror.ts), generation + md5 for GCS objects (listed by GCS, so only
// new or changed objects are downloaded, 8 at a time).
import { mkdirSync, statSync } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  describeStoreUrlError,
  err,
  mapConcurrent,
  ok,
  parseStoreUrl,
  type Result,
} from '../../lib/stage-api/index.js';
import { mirrorFolder } from './file-mirror.js';
import { sameIdentity, uploadFormat, type ManifestFile } from './uploads.js';

/** Where a source mirrors to, and what the last good run left. */
export interface MirrorTarget {
  /** The temp data/raw (exists); uploads go to the same relative paths under it. */
  readonly out: string;
  /** The last good data/raw, to hard-link unchanged uploads from (may be missing). */
  readonly previousRoot: string;
  /** The last good manifest's files by path (empty on a first run). */
  readonly previous: ReadonlyMap<string, ManifestFile>;
}

/** Why mirroring failed: listing the source, or fetching one upload (`path`). */
export type MirrorFailure =
  | { readonly step: 'list'; readonly message: string }
  | { readonly step: 'fetch'; readonly path: string; readonly message: string };

/** The uploads now in `out`, sorted by path; or the first failure. */
export type MirrorResult = Result<readonly ManifestFile[], MirrorFailure>;

export interface UploadSource {
  mirror(target: MirrorTarget): Promise<MirrorResult>;
}

/** `keyPrefix`: '' or a prefix without outer slashes (the store URL parser's form). */
async function gcsSource(
  bucketName: string,
  keyPrefix: string,
  endpoint: string | undefined,
): Promise<UploadSource> {
  const prefix = keyPrefix === '' ? '' : `${keyPrefix}/`;
  const { Storage } = await import('@google-cloud/storage');
  // With STORAGE_EMULATOR_HOST set, the client talks to that endpoint without credentials;
  // PIPE_GCS_ENDPOINT names another endpoint the way `pipe push/pull` take it (lib/remote/remote.ts).
  const bucket = new Storage(
    endpoint === undefined || endpoint === '' ? {} : { apiEndpoint: endpoint },
  ).bucket(bucketName);
  return {
    async mirror(target) {
      let files: ManifestFile[];
      try {
        const [objects] = await bucket.getFiles({ prefix, autoPaginate: true });
        files = objects
          .map((f) => ({
            path: f.name.slice(prefix.length),
            size: Number(f.metadata.size),
            md5: String(f.metadata.md5Hash),
            generation: String(f.metadata.generation),
          }))
          .filter((f) => f.path !== '' && uploadFormat(f.path) !== undefined)
          .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      } catch (error) {
        return err({ step: 'list', message: (error as Error).message });
      }
      for (const folder of new Set(files.map((f) => dirname(f.path))))
        mkdirSync(join(target.out, folder), { recursive: true });
      let failed: MirrorFailure | undefined;
      await mapConcurrent(files, 8, async (file) => {
        const destination = join(target.out, file.path);
        const before = join(target.previousRoot, file.path);
        try {
          if (
            sameIdentity(file, target.previous.get(file.path)) &&
            statSync(before, { throwIfNoEntry: false })?.size === file.size
          ) {
            await link(before, destination).catch(() => copyFile(before, destination));
          } else {
            await bucket.file(`${prefix}${file.path}`).download({ destination, validation: 'md5' });
          }
        } catch (error) {
          failed ??= { step: 'fetch', path: file.path, message: (error as Error).message };
        }
      });
      return failed === undefined ? ok(files) : err(failed);
    },
  };
}

/** The source UPLOADS_URL names, or one line saying what is wrong with it and where to fix it. */
export async function openUploadSource(
  url: string,
  workspace: string,
  gcsEndpoint?: string,
): Promise<Result<UploadSource, string>> {
  const parsed = parseStoreUrl(url, workspace);
  if (!parsed.ok) {
    const problem =
      parsed.error.kind === 'unsupported'
        ? `UPLOADS_URL=${url} is neither file://<folder> nor gs://<bucket>/<prefix>`
        : describeStoreUrlError(`UPLOADS_URL=${url}`, parsed.error);
    return err(`${problem}; set it in config/.env.local`);
  }
  const store = parsed.value;
  if (store.scheme === 'file') return ok({ mirror: (target) => mirrorFolder(store.root, target) });
  return ok(await gcsSource(store.bucket, store.prefix, gcsEndpoint));
}
