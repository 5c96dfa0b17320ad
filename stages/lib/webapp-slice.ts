// Checks one slice of the sorted web-app file list and stages its valid documents for DuckDB, as
// newline-delimited JSON, `{"file_id", "source_file", "upload"}` per line: DuckDB reads a few large
// files far faster than many small ones (25,000 uploads: ~50 s as files, a few seconds staged), and
// the check already parsed every document. Runs in a worker thread (webapp-screen-worker.ts) or,
// for a small list, on the main thread: the same code either way.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checkUpload, uploadChecker, type CheckedUpload } from './webapp-files.js';

export interface SliceJob {
  readonly rawRoot: string;
  readonly schemaPath: string;
  /** This slice of the sorted list, and the index of its first file in the whole list. */
  readonly files: readonly string[];
  readonly firstIndex: number;
  /** Where the slice's valid documents go (NDJSON). */
  readonly stagingPath: string;
}

const FLUSH_CHARS = 1 << 22; // one write per ~4 MB, not one per file

/** Verdicts for the slice's files, in order. Every valid document is staged, duplicates too:
 *  which copy wins is decided over the whole list (resolveUploads), and the losers are left out
 *  when DuckDB loads the staging (by file_id, the file's index in the sorted list). */
export function screenSlice(job: SliceJob): CheckedUpload[] {
  const checker = uploadChecker(job.schemaPath);
  const fd = openSync(job.stagingPath, 'w');
  const verdicts: CheckedUpload[] = [];
  let pending: string[] = [];
  let pendingChars = 0;
  const flush = () => {
    writeSync(fd, pending.join(''));
    pending = [];
    pendingChars = 0;
  };
  try {
    for (const [i, file] of job.files.entries()) {
      const index = job.firstIndex + i;
      const { checked, text } = checkUpload(join(job.rawRoot, file), checker);
      verdicts.push(checked);
      if (text === undefined) continue;
      // JSON.parse accepted `text`, so a raw CR or LF in it can only be whitespace between tokens
      // (never inside a string): blanking them keeps the same document, on one line.
      const oneLine = text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, ' ') : text;
      const line = `{"file_id":${index},"source_file":${JSON.stringify(file)},"upload":${oneLine}}\n`;
      pending.push(line);
      pendingChars += line.length;
      if (pendingChars >= FLUSH_CHARS) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return verdicts;
}
