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

/**
 * The manifest's text: valid JSON with one upload per line. WHY not JSON.stringify's indentation:
 * at 241,605 uploads that was 41.5 MB, written by every download run and read by clean and the
 * report; a line per upload is ~30 % less and still diffs line by line, and an incremental run
 * finds and replaces an upload's line without parsing the others (stages/shared/manifest-lines.ts).
 */
export function manifestText(manifest: RawManifest): string {
  const files = manifest.files.map((f) => JSON.stringify(f)).join(',\n');
  return `{"source":${JSON.stringify(manifest.source)},"count":${manifest.files.length},"files":[\n${files}\n],"deleted":${JSON.stringify(manifest.deleted)}}\n`;
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

const byPath = (a: { path: string }, b: { path: string }): number =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : 0;

/**
 * The manifest of a from-scratch run: `listed` is every upload now; a path the previous manifest
 * listed (or had listed as deleted) that is not there now is deleted.
 */
export function manifestFromScratch(
  source: string,
  previous: RawManifest | undefined,
  listed: readonly ManifestFile[],
): RawManifest {
  const present = new Set(listed.map((f) => f.path));
  const deleted = [
    ...new Set([...(previous?.deleted ?? []), ...(previous?.files.map((f) => f.path) ?? [])]),
  ]
    .filter((path) => !present.has(path))
    .sort();
  // Sorted here, not trusted from the source: an incremental run finds lines by binary search.
  return { source, files: [...listed].sort(byPath), deleted };
}
