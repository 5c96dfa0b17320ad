// Where uploads come from: a file:// folder or a gs:// bucket prefix, behind one small interface
// so download's manifest logic does not care which. Each source mirrors its uploads into the temp
// data/raw and says what it mirrored, with the identity that tells "changed" from "unchanged":
// sha256 for files (file-mirror.ts), generation + md5 for GCS objects (listed by GCS, so only
// new or changed objects are downloaded, 8 at a time).
import { mkdirSync, statSync } from 'node:fs';
import { copyFile, link } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { mirrorFolder } from './file-mirror.js';
import { mapLimited } from './map-limited.js';
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

/** The uploads now in `out`, sorted by path; or why not ('list': the source; 'fetch': one upload). */
export type MirrorResult =
  | { readonly ok: true; readonly files: readonly ManifestFile[] }
  | { readonly ok: false; readonly failure: 'list'; readonly message: string }
  | {
      readonly ok: false;
      readonly failure: 'fetch';
      readonly path: string;
      readonly message: string;
    };

export interface UploadSource {
  mirror(target: MirrorTarget): Promise<MirrorResult>;
}

export type SourceResult = { ok: true; source: UploadSource } | { ok: false; message: string };

/**
 * `file://<path>`: the text after `file://` is a path. Starting with `/` it is absolute
 * (`file:///srv/uploads`); otherwise it is relative to the workspace (`file://samples`). This is
 * not RFC 8089's host form on purpose: a committed default must work in every clone's location.
 */
export function fileSourceRoot(url: string, workspace: string): string {
  const path = decodeURIComponent(url.slice('file://'.length));
  return isAbsolute(path) ? path : resolve(workspace, path);
}

async function gcsSource(url: string, endpoint: string | undefined): Promise<UploadSource> {
  const match = /^gs:\/\/([^/]+)\/?(.*)$/.exec(url)!;
  const [bucketName, rawPrefix] = [match[1]!, match[2] ?? ''];
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
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
        return { ok: false, failure: 'list', message: (error as Error).message };
      }
      for (const folder of new Set(files.map((f) => dirname(f.path))))
        mkdirSync(join(target.out, folder), { recursive: true });
      let failed: MirrorResult | undefined;
      await mapLimited(files, 8, async (file) => {
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
          failed ??= {
            ok: false,
            failure: 'fetch',
            path: file.path,
            message: (error as Error).message,
          };
        }
      });
      return failed ?? { ok: true, files };
    },
  };
}

export async function openUploadSource(
  url: string,
  workspace: string,
  gcsEndpoint?: string,
): Promise<SourceResult> {
  if (url.startsWith('file://')) {
    const root = fileSourceRoot(url, workspace);
    return { ok: true, source: { mirror: (target) => mirrorFolder(root, target) } };
  }
  if (/^gs:\/\/[^/]+/.test(url)) return { ok: true, source: await gcsSource(url, gcsEndpoint) };
  return {
    ok: false,
    message: `UPLOADS_URL=${url} is neither file://<folder> nor gs://<bucket>/<prefix>; set it in config/.env.local`,
  };
}
