// Checks one slice of the sorted web-app file list and stages its valid documents for DuckDB, as
// newline-delimited JSON in two files: per upload, its fields (`{"file_id", "source_file",
// "user_id", ...}`, small) and its whole document (`{"file_id", "upload"}`, read once, for the
// events). DuckDB reads a few large files far faster than many small ones (25,000 uploads: ~50 s
// as files, a few seconds staged), and the check already parsed every document. Runs in a worker
// thread (webapp-screen-worker.ts) or, for a small list, on the main thread: the same code either way.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { UploadLimits } from './file-rejects.js';
import {
  checkUpload,
  uploadChecker,
  type CheckedUpload,
  type UploadChecker,
} from './webapp-files.js';

export interface SliceJob {
  readonly rawRoot: string;
  readonly schemaPath: string;
  readonly limits: UploadLimits;
  /** This slice of the sorted list, and the index of its first file in the whole list. */
  readonly files: readonly string[];
  readonly firstIndex: number;
  /** Where the slice's valid uploads' fields go, and their documents (NDJSON). */
  readonly filesPath: string;
  readonly eventsPath: string;
}

const FLUSH_CHARS = 1 << 22; // one write per ~4 MB, not one per file

/** Verdicts for the slice's files, in order. Every valid document is staged, duplicates too:
 *  which copy wins is decided over the whole list (resolveUploads), and the losers are left out
 *  when DuckDB loads the staging (by file_id, the file's index in the sorted list). */
export function screenSlice(job: SliceJob): CheckedUpload[] {
  // Compiled for the first file only: a slice of none (an Aalto-only run) never loads ajv.
  let checker: UploadChecker | undefined;
  const files = new BufferedFile(job.filesPath);
  const events = new BufferedFile(job.eventsPath);
  const verdicts: CheckedUpload[] = [];
  try {
    for (const [i, file] of job.files.entries()) {
      const index = job.firstIndex + i;
      checker ??= uploadChecker(job.schemaPath, job.limits);
      const { checked, text, doc } = checkUpload(join(job.rawRoot, file), checker);
      verdicts.push(checked);
      if (text === undefined || doc === undefined) continue;
      files.add(
        `${JSON.stringify({
          file_id: index,
          source_file: file,
          user_id: doc.user_id,
          session_id: doc.session_id,
          platform: doc.client.device,
          prompt: doc.prompt,
          text: doc.text,
          time_origin: doc.time_origin,
        })}\n`,
      );
      // JSON.parse accepted `text`, so a raw CR or LF in it can only be whitespace between tokens
      // (never inside a string): blanking them keeps the same document, on one line.
      const oneLine =
        text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, ' ') : text;
      events.add(`{"file_id":${index},"upload":${oneLine}}\n`);
    }
  } finally {
    files.close();
    events.close();
  }
  return verdicts;
}

/** Appends lines to a file in ~4 MB writes, not one write per upload. */
class BufferedFile {
  readonly #fd: number;
  #pending: string[] = [];
  #chars = 0;
  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }
  add(line: string): void {
    this.#pending.push(line);
    this.#chars += line.length;
    if (this.#chars >= FLUSH_CHARS) this.#flush();
  }
  close(): void {
    this.#flush();
    closeSync(this.#fd);
  }
  #flush(): void {
    writeSync(this.#fd, this.#pending.join(''));
    this.#pending = [];
    this.#chars = 0;
  }
}
