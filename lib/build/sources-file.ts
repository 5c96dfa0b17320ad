// PIPE_SOURCES (docs/stage-contract.md): what the runner saw of a stage's upload-source deps,
// handed to the stage as one JSON file so it mirrors exactly that instead of listing again.
//   { "version": 1, "sources": { "<dep as declared>": Source } }
//   Source = { "url", "kind": "folder", "root": "<absolute folder>",
//              "files": [{ "path", "size", "sha256" }] }       (paths relative to root, sorted)
//          | { "url", "kind": "bucket", "bucket", "prefix",
//              "objects": [{ "path", "size", "generation", "md5"?, "crc32c"? }] }
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceSeen } from './source-deps.js';
import { manifestLinesOf } from '../observe/manifest-text.js';
import { readStoredManifest } from '../observe/manifest-store.js';
import type { FileHash, PathHash } from '../observe/types.js';

export const SOURCES_FILE_VERSION = 1;

/**
 * Writes `<tmp>/sources.json` and returns its path; undefined when the stage has no source deps.
 * `only`, per declared dep, narrows its files to those paths (an `incremental: changes` run: the
 * added and modified ones; at 241,605 uploads the whole listing cost ~0.5 s to write and parse).
 */
export async function writeSourcesFile(
  workspace: string,
  tmp: string,
  sources: Readonly<Record<string, SourceSeen>>,
  only?: Readonly<Record<string, ReadonlySet<string>>>,
): Promise<string | undefined> {
  const entries = Object.entries(sources);
  if (entries.length === 0) return undefined;
  const path = join(tmp, 'sources.json');
  // Built as text piece by piece: at 241,605 objects one JSON.stringify of the whole holds the
  // objects and the string at once.
  const parts: string[] = [`{"version":${SOURCES_FILE_VERSION},"sources":{`];
  entries.forEach(([declared, seen], i) => {
    if (seen.state !== 'observed')
      throw new Error(`internal: source ${declared} handed to a stage without being observed`);
    const { target, hash } = seen;
    if (i > 0) parts.push(',');
    parts.push(`${JSON.stringify(declared)}:`);
    if (target.kind === 'bucket') {
      const head = {
        url: target.url,
        kind: 'bucket',
        bucket: target.bucket,
        prefix: target.prefix,
      };
      parts.push(`${JSON.stringify(head).slice(0, -1)},"objects":[`);
      const keep = only?.[declared];
      const objects = (seen.listing ?? []).filter((o) => keep === undefined || keep.has(o.path));
      for (const [k, o] of objects.entries()) parts.push(`${k > 0 ? ',' : ''}${JSON.stringify(o)}`);
    } else {
      const head = { url: target.url, kind: 'folder', root: target.root };
      parts.push(`${JSON.stringify(head).slice(0, -1)},"files":[`);
      const cut = hash.kind === 'file' ? 0 : target.rel.length + 1;
      const keep = only?.[declared];
      const files = hash.kind === 'file' ? [] : filesToList(workspace, hash, keep);
      let k = 0;
      for (const f of files) {
        const path = f.path.slice(cut);
        if (keep !== undefined && !keep.has(path)) continue;
        parts.push(
          `${k++ > 0 ? ',' : ''}${JSON.stringify({ path, size: f.size, sha256: f.sha256 })}`,
        );
      }
    }
    parts.push(']}');
  });
  parts.push('}}\n');
  await writeFile(path, parts.join(''));
  return path;
}

/**
 * The folder's files to list: with `keep` (a few added and modified paths), their lines found in
 * its stored manifest by binary search (manifest-text.ts), so a lazy list of 241,605 files is not
 * made for one new upload; else, or when the manifest cannot say, the whole list.
 */
function filesToList(
  workspace: string,
  hash: Extract<PathHash, { readonly files: readonly FileHash[] }>,
  keep: ReadonlySet<string> | undefined,
): readonly FileHash[] {
  if (keep === undefined || hash.kind !== 'dir') return hash.files;
  const text = readStoredManifest(workspace, hash.sha256);
  const sorted = [...keep].sort();
  const found = text === undefined ? undefined : manifestLinesOf(text, sorted, `${hash.path}/`);
  return found ?? hash.files;
}
