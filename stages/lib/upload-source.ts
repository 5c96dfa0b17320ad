// Where uploads come from: a file:// folder or a gs:// bucket prefix, behind one small interface
// so download's incremental logic does not care which. Each listed upload carries the identity
// that tells "changed" from "unchanged": sha256 for files, generation + md5 for GCS objects.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { mapLimited } from './map-limited.js';
import { uploadFormat, type ManifestFile } from './uploads.js';

export interface UploadSource {
  /** Every upload under the source, sorted by path, with its identity. */
  list(): Promise<ManifestFile[]>;
  /** Writes the upload at `path` to the absolute file `destination`. */
  fetch(path: string, destination: string): Promise<void>;
}

export type SourceResult = { ok: true; source: UploadSource } | { ok: false; message: string };

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function walk(root: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) found.push(...(await walk(root, rel)));
    else if (entry.isFile() && uploadFormat(rel) !== undefined) found.push(rel);
  }
  return found;
}

/**
 * `file://<path>`: the text after `file://` is a path. Starting with `/` it is absolute
 * (`file:///srv/uploads`); otherwise it is relative to the workspace (`file://samples`). This is
 * not RFC 8089's host form on purpose: a committed default must work in every clone's location.
 */
export function fileSourceRoot(url: string, workspace: string): string {
  const path = decodeURIComponent(url.slice('file://'.length));
  return isAbsolute(path) ? path : resolve(workspace, path);
}

function fileSource(root: string): UploadSource {
  return {
    async list() {
      const paths = (await walk(root)).sort();
      return mapLimited(paths, 8, async (path) => ({ path, size: (await stat(join(root, path))).size, sha256: await sha256File(join(root, path)) }));
    },
    fetch: (path, destination) => copyFile(join(root, path), destination),
  };
}

async function gcsSource(url: string, endpoint: string | undefined): Promise<UploadSource> {
  const match = /^gs:\/\/([^/]+)\/?(.*)$/.exec(url)!;
  const [bucketName, rawPrefix] = [match[1]!, match[2] ?? ''];
  const prefix = rawPrefix === '' || rawPrefix.endsWith('/') ? rawPrefix : `${rawPrefix}/`;
  const { Storage } = await import('@google-cloud/storage');
  // With STORAGE_EMULATOR_HOST set, the client talks to that endpoint without credentials;
  // PIPE_GCS_ENDPOINT names another endpoint the way `pipe push/pull` take it (lib/remote.ts).
  const bucket = new Storage(endpoint === undefined || endpoint === '' ? {} : { apiEndpoint: endpoint }).bucket(bucketName);
  return {
    async list() {
      const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
      return files
        .map((f) => ({ path: f.name.slice(prefix.length), size: Number(f.metadata.size), md5: String(f.metadata.md5Hash), generation: String(f.metadata.generation) }))
        .filter((f) => f.path !== '' && uploadFormat(f.path) !== undefined)
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
    async fetch(path, destination) {
      await bucket.file(`${prefix}${path}`).download({ destination, validation: 'md5' });
    },
  };
}

export async function openUploadSource(url: string, workspace: string, gcsEndpoint?: string): Promise<SourceResult> {
  if (url.startsWith('file://')) return { ok: true, source: fileSource(fileSourceRoot(url, workspace)) };
  if (/^gs:\/\/[^/]+/.test(url)) return { ok: true, source: await gcsSource(url, gcsEndpoint) };
  return { ok: false, message: `UPLOADS_URL=${url} is neither file://<folder> nor gs://<bucket>/<prefix>; set it in config/.env.local` };
}
