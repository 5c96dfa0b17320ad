// A whole upload clean removes before DuckDB reads a row of it, with the rule it broke
// (docs/data-tables.md lists every rule). One reject row each, source_line NULL.
export interface FileReject {
  readonly rule:
    | 'upload_too_large'
    | 'decompressed_too_large'
    | 'empty_upload'
    | 'unreadable_gzip'
    | 'truncated_json'
    | 'invalid_json'
    | 'duplicate_key'
    | 'schema_mismatch'
    | 'duplicate_upload'
    | 'session_id_conflict';
  readonly source: 'webapp' | 'aalto';
  readonly sourceFile: string;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly detail: string;
}

/** Caps on what clean reads of one upload (params clean.max_upload_bytes, clean.max_decompressed_bytes). */
export interface UploadLimits {
  /** Bytes of an upload as stored (any format). */
  readonly maxUploadBytes: number;
  /** Bytes of a .json.gz upload after gunzip. */
  readonly maxDecompressedBytes: number;
}

/** The detail of upload_too_large: the size the file claims, or that it held more than it claimed. */
export function tooLargeDetail(size: number | null, max: number): string {
  return size === null
    ? `more bytes than clean.max_upload_bytes (${max})`
    : `${size} bytes, more than clean.max_upload_bytes (${max})`;
}
