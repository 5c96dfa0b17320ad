// What clean reads from data/raw: the manifest, checked against the files beside it (the "input
// table check" for the raw folder), and Aalto files made readable as UTF-8. The Aalto files are
// Latin-1 where they are not UTF-8 (2404_keystrokes.txt); DuckDB's read_text needs UTF-8, and its
// other encodings live in an extension we must not load, so a file that is not valid UTF-8 is
// decoded here as Windows-1252 (what WHATWG means by "latin1": Latin-1 plus printable 0x80-0x9F)
// into a temporary UTF-8 copy. Its source_file stays the raw path. A file DuckDB could not read by
// its name (stages/duckdb.ts, readableByDuckDb) is read from a copy too. A file past
// clean.max_upload_bytes, or with no data line, is a file reject instead (never read by DuckDB).
// A full build checks every manifest entry; an incremental one only the uploads it reads (the
// parts it rebuilds): stat-ing 241,605 unchanged uploads would cost more than the new ones.
import { isUtf8 } from 'node:buffer';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../../lib/stage-api/index.js';
import { readableByDuckDb } from '../duckdb.js';
import { readCapped } from './capped-read.js';
import { tooLargeDetail, type FileReject } from './file-rejects.js';
import { ManifestLines } from './manifest-lines.js';
import type { ManifestFile } from './uploads.js';

/** The raw folder's input check that failed (`rule`) and why. */
export interface RawInputFailure {
  readonly rule: string;
  readonly detail: string;
}

/**
 * data/raw/manifest.json, opened for lookups (stages/shared/manifest-lines.ts): an incremental run
 * looks at the entries of the uploads it rebuilds where they lie, a full one parses them all.
 */
export function readManifest(rawRoot: string): Result<ManifestLines, RawInputFailure> {
  try {
    return ok(ManifestLines.open(join(rawRoot, 'manifest.json')));
  } catch (error) {
    const message = (error as Error).message;
    if ((error as NodeJS.ErrnoException).code !== undefined || error instanceof SyntaxError)
      return err({ rule: 'readable', detail: `${message} (run the download stage)` });
    return err({ rule: 'columns', detail: message });
  }
}

/**
 * Every one of `files` (manifest entries) is in data/raw with the size the manifest says;
 * `entryOf` gives an entry's position in the manifest, for the message.
 */
export function checkRawFiles(
  rawRoot: string,
  files: readonly ManifestFile[],
  entryOf: (file: ManifestFile) => number,
): Result<void, RawInputFailure> {
  for (const file of files) {
    const abs = join(rawRoot, file.path);
    if (!existsSync(abs) || statSync(abs).size !== file.size) {
      return err({
        rule: 'files_present',
        detail: `manifest entry ${entryOf(file)} ${JSON.stringify(file)} has no file of that size in data/raw`,
      });
    }
  }
  return ok(undefined);
}

export interface ReadableAalto {
  /** source_file (path under data/raw) -> absolute path of a UTF-8 file to read. */
  readonly aalto: Map<string, string>;
  readonly transcoded: string[];
  /** Files not read: too large or without data lines. */
  readonly aaltoRejects: FileReject[];
}

/**
 * Aalto uploads (paths under data/raw, sorted) as UTF-8 files DuckDB can read by name; copies of
 * the Latin-1 ones and of unreadably named ones in `stagingDir`.
 */
export function readableAalto(
  rawRoot: string,
  paths: readonly string[],
  stagingDir: string,
  maxUploadBytes: number,
): ReadableAalto {
  const aalto = new Map<string, string>();
  const transcoded: string[] = [];
  const aaltoRejects: FileReject[] = [];
  const reject = (rule: FileReject['rule'], sourceFile: string, detail: string) =>
    aaltoRejects.push({ rule, source: 'aalto', sourceFile, userId: null, sessionId: null, detail });
  const latin1 = new TextDecoder('windows-1252');
  for (const path of paths) {
    const abs = join(rawRoot, path);
    const read = readCapped(abs, maxUploadBytes);
    if (!read.ok) {
      reject('upload_too_large', path, tooLargeDetail(read.size, maxUploadBytes));
      continue;
    }
    const bytes = read.bytes;
    if (!hasDataLine(bytes)) {
      reject('empty_upload', path, `${bytes.length} bytes, no data line after the header`);
      continue;
    }
    // isUtf8 checks the bytes where they are; decoding each file only to learn whether it
    // decodes made a throwaway JS string of every file (1.3 GB of text at 10M keystrokes).
    if (isUtf8(bytes)) {
      if (readableByDuckDb(abs)) aalto.set(path, abs);
      else {
        const copy = join(stagingDir, `${aalto.size}.txt`);
        writeFileSync(copy, bytes);
        aalto.set(path, copy);
      }
    } else {
      const copy = join(stagingDir, `${aalto.size}.utf8.txt`);
      writeFileSync(copy, latin1.decode(bytes));
      aalto.set(path, copy);
      transcoded.push(path);
    }
  }
  return { aalto, transcoded, aaltoRejects };
}

/**
 * True when clean.aalto-batch.sql would find a data line: it splits at LF, the first line is the
 * header and an empty last line (after the final newline) is no line. So a file with no LF, or
 * whose only LF is its last byte, has none (a 0-byte file, a header alone).
 */
function hasDataLine(bytes: Buffer): boolean {
  const lf = bytes.indexOf(10);
  return lf !== -1 && lf !== bytes.length - 1;
}
