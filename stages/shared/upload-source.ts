// Where uploads come from: a file:// folder or a gs:// bucket prefix, behind one small interface
// so download's manifest logic does not care which. Neither is listed here: pipe observed the
// source when it judged download stale and hands that observation over (PIPE_SOURCES), so the
// stage mirrors exactly what made it run. Each source mirrors its uploads into the temp data/raw
// and says what it mirrored, with the identity that tells "changed" from "unchanged": sha256 for
// files (file-mirror.ts, which refuses a file changed since it was observed), generation + md5
// for GCS objects (only new or changed objects are downloaded, 8 at a time, at the listed
// generation).
import { mkdirSync, readFileSync, statSync } from 'node:fs';
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

/**
 * PIPE_SOURCES (docs/stage-contract.md): what pipe saw of the stage's upload-source deps when it
 * judged the stage stale. The stage mirrors exactly that, so what it copies is what made it run.
 */
export type ObservedSource =
  | {
      readonly kind: 'folder';
      readonly url: string;
      readonly root: string;
      /** Absent when the stage is run by hand (no PIPE_SOURCES): the folder is walked here. */
      readonly files?: readonly { path: string; size: number; sha256: string }[];
    }
  | {
      readonly kind: 'bucket';
      readonly url: string;
      readonly bucket: string;
      readonly prefix: string;
      readonly objects: readonly ObservedObject[];
      /** Run by hand (no PIPE_SOURCES): list the bucket here instead. */
      readonly listHere?: boolean;
    };

export interface ObservedObject {
  readonly path: string;
  readonly size: number;
  readonly generation: string;
  readonly md5?: string;
  readonly crc32c?: string;
}

/** The observation of the dep declared as `declared`, from the file PIPE_SOURCES names. */
export function observedSource(
  sourcesFile: string | undefined,
  declared: string,
): Result<ObservedSource | undefined, string> {
  // Unset when the stage is run by hand (tests that run one stage alone): the source is listed here.
  if (sourcesFile === undefined || sourcesFile === '') return ok(undefined);
  let doc: { version?: number; sources?: Record<string, ObservedSource> };
  try {
    doc = JSON.parse(readFileSync(sourcesFile, 'utf8')) as typeof doc;
  } catch (error) {
    return err(`cannot read PIPE_SOURCES ${sourcesFile}: ${(error as Error).message}`);
  }
  const found = doc.version === 1 ? doc.sources?.[declared] : undefined;
  return found === undefined
    ? err(`PIPE_SOURCES has no observation of ${declared} (is it in this stage's deps?)`)
    : ok(found);
}

function gcsSource(
  observed: Extract<ObservedSource, { kind: 'bucket' }>,
  endpoint: string | undefined,
): UploadSource {
  const prefix = observed.prefix === '' ? '' : `${observed.prefix}/`;
  return {
    async mirror(target) {
      let objects = observed.objects;
      if (objects.length === 0 && observed.listHere === true) {
        const listedHere = await listHere(observed, endpoint);
        if (!listedHere.ok) return err({ step: 'list', message: listedHere.error });
        objects = listedHere.value;
      }
      const files: ManifestFile[] = objects
        .filter((o) => o.path !== '' && uploadFormat(o.path) !== undefined)
        .map((o) => ({
          path: o.path,
          size: o.size,
          md5: String(o.md5),
          generation: o.generation,
        }));
      const { Storage } = await import('@google-cloud/storage');
      // With STORAGE_EMULATOR_HOST set, the client talks to that endpoint without credentials;
      // PIPE_GCS_ENDPOINT names another endpoint the way `pipe push/pull` take it (lib/remote/remote.ts).
      const bucket = new Storage(
        endpoint === undefined || endpoint === '' ? {} : { apiEndpoint: endpoint },
      ).bucket(observed.bucket);
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
            // The generation pipe listed, not whatever is there now: a replacement since the
            // listing fails here (not found) instead of slipping in unobserved.
            await bucket
              .file(`${prefix}${file.path}`, { generation: Number(file.generation) })
              .download({ destination, validation: 'md5' });
          }
        } catch (error) {
          const message = (error as Error).message;
          failed ??= {
            step: 'fetch',
            path: file.path,
            message: /No such object|404/.test(message)
              ? `generation ${file.generation} is gone (replaced or deleted since pipe listed it); run pipe build again`
              : message,
          };
        }
      });
      return failed === undefined ? ok(files) : err(failed);
    },
  };
}

/**
 * The source pipe observed for UPLOADS_URL (`observed`), checked against UPLOADS_URL itself; or
 * one line saying what is wrong and where to fix it.
 */
export function openUploadSource(
  url: string,
  workspace: string,
  observedByPipe: ObservedSource | undefined,
  gcsEndpoint?: string,
): Result<UploadSource, string> {
  const parsed = parseStoreUrl(url, workspace);
  if (!parsed.ok) {
    const problem =
      parsed.error.kind === 'unsupported'
        ? `UPLOADS_URL=${url} is neither file://<folder> nor gs://<bucket>/<prefix>`
        : describeStoreUrlError(`UPLOADS_URL=${url}`, parsed.error);
    return err(`${problem}; set it in config/.env.local`);
  }
  const store = parsed.value;
  const observed: ObservedSource =
    observedByPipe ??
    (store.scheme === 'file'
      ? { kind: 'folder', url, root: store.root }
      : {
          kind: 'bucket',
          url,
          bucket: store.bucket,
          prefix: store.prefix,
          objects: [],
          listHere: true,
        });
  if (store.scheme === 'file' && observed.kind === 'folder' && observed.root === store.root)
    return ok({ mirror: (target) => mirrorFolder(store.root, target, observed.files) });
  if (
    store.scheme === 'gs' &&
    observed.kind === 'bucket' &&
    observed.bucket === store.bucket &&
    observed.prefix === store.prefix
  )
    return ok(gcsSource(observed, gcsEndpoint));
  return err(`pipe observed ${observed.url}, but UPLOADS_URL is ${url}`);
}

/** The bucket's objects by the client's listing: only for a stage run by hand. */
async function listHere(
  source: { bucket: string; prefix: string },
  endpoint: string | undefined,
): Promise<Result<ObservedObject[], string>> {
  const prefix = source.prefix === '' ? '' : `${source.prefix}/`;
  const { Storage } = await import('@google-cloud/storage');
  const bucket = new Storage(
    endpoint === undefined || endpoint === '' ? {} : { apiEndpoint: endpoint },
  ).bucket(source.bucket);
  try {
    const [objects] = await bucket.getFiles({ prefix, autoPaginate: true });
    return ok(
      objects
        .map((f) => ({
          path: f.name.slice(prefix.length),
          size: Number(f.metadata.size),
          generation: String(f.metadata.generation),
          ...(f.metadata.md5Hash === undefined ? {} : { md5: String(f.metadata.md5Hash) }),
        }))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    );
  } catch (error) {
    return err((error as Error).message);
  }
}
