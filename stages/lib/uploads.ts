// Which files are uploads, and of which format. The one place that knows upload file names:
// download copies only these (so docs beside them, like readme.txt, ATTRIBUTION.md or the
// generator's PLANTED.json, never count as uploads), and clean reads each by its format.
//   <session_id>.session.json[.gz]   a web-app session (config/upload.schema.json)
//   <participant>_keystrokes.txt      an Aalto 136M participant file (tab-separated, 9 columns)

export type UploadFormat = 'webapp' | 'aalto';

export function uploadFormat(path: string): UploadFormat | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (/\.session\.json(\.gz)?$/.test(name)) return 'webapp';
  if (/_keystrokes\.txt$/.test(name)) return 'aalto';
  return undefined;
}

/** data/raw/manifest.json (docs/data-tables.md). Deterministic for the same uploads: no clocks. */
export interface RawManifest {
  readonly source: string;
  readonly files: readonly ManifestFile[];
  /** Paths that were uploads once and are gone upstream: removed from data/raw, listed here. */
  readonly deleted: readonly string[];
}

export interface ManifestFile {
  /** POSIX path relative to the upload root, and to data/raw. */
  readonly path: string;
  readonly size: number;
  /** file:// sources: sha256 of the content. */
  readonly sha256?: string;
  /** gs:// sources: the object's md5 (base64, as GCS reports it) and generation. */
  readonly md5?: string;
  readonly generation?: string;
}

/**
 * True when `listed` is the same upload the previous manifest recorded as `before`: same size and
 * the same identity (sha256 for files; md5 and generation for GCS objects). Fields a source does
 * not record are undefined on both sides and compare equal.
 */
export function sameIdentity(listed: ManifestFile, before: ManifestFile | undefined): boolean {
  return (
    before !== undefined &&
    listed.size === before.size &&
    listed.sha256 === before.sha256 &&
    listed.md5 === before.md5 &&
    listed.generation === before.generation
  );
}

/**
 * The previous manifest's files after an incremental run: `gone` removed, `placed` (new or
 * replaced uploads) put in, sorted by path as a from-scratch listing is.
 */
export function manifestAfter(
  before: readonly ManifestFile[],
  placed: readonly ManifestFile[],
  gone: readonly string[],
): ManifestFile[] {
  const replaced = new Set([...gone, ...placed.map((f) => f.path)]);
  return [...before.filter((f) => !replaced.has(f.path)), ...placed].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
  );
}
