// What clean reads from data/raw: the manifest, checked against the files beside it (the "input
// table check" for the raw folder), split by upload format, with Aalto files made readable as
// UTF-8. The Aalto files are Latin-1 where they are not UTF-8 (2404_keystrokes.txt); DuckDB's
// read_text needs UTF-8, and its other encodings live in an extension we must not load, so a file
// that is not valid UTF-8 is decoded here as Windows-1252 (what WHATWG means by "latin1": Latin-1
// plus printable 0x80-0x9F) into a temporary UTF-8 copy. Its source_file stays the raw path.
import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../../lib/stage-api/index.js';
import { uploadFormat, type RawManifest } from './uploads.js';

export interface RawInput {
  readonly manifest: RawManifest;
  readonly webapp: string[];
  /** source_file (path under data/raw) -> absolute path of a UTF-8 file to read. */
  readonly aalto: Map<string, string>;
  readonly transcoded: string[];
}

/** The raw folder's input check that failed (`rule`) and why. */
export interface RawInputFailure {
  readonly rule: string;
  readonly detail: string;
}

export type RawInputResult = Result<RawInput, RawInputFailure>;

export function readRawInput(rawRoot: string, stagingDir: string): RawInputResult {
  const manifestPath = join(rawRoot, 'manifest.json');
  let manifest: RawManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as RawManifest;
  } catch (error) {
    return err({
      rule: 'readable',
      detail: `${(error as Error).message} (run the download stage)`,
    });
  }
  if (!Array.isArray(manifest.files))
    return err({ rule: 'columns', detail: 'manifest.json has no "files" array' });
  const webapp: string[] = [];
  const aalto = new Map<string, string>();
  const transcoded: string[] = [];
  const latin1 = new TextDecoder('windows-1252');
  for (const [index, file] of manifest.files.entries()) {
    const abs = join(rawRoot, file.path);
    if (!existsSync(abs) || statSync(abs).size !== file.size) {
      return err({
        rule: 'files_present',
        detail: `manifest entry ${index} ${JSON.stringify(file)} has no file of that size in data/raw`,
      });
    }
    const format = uploadFormat(file.path);
    if (format === 'webapp') webapp.push(file.path);
    else if (format === 'aalto') {
      // isUtf8 checks the bytes where they are; decoding each file only to learn whether it
      // decodes made a throwaway JS string of every file (1.3 GB of text at 10M keystrokes).
      const bytes = readFileSync(abs);
      if (isUtf8(bytes)) aalto.set(file.path, abs);
      else {
        const copy = join(stagingDir, `${aalto.size}.utf8.txt`);
        writeFileSync(copy, latin1.decode(bytes));
        aalto.set(file.path, copy);
        transcoded.push(file.path);
      }
    }
  }
  return ok({ manifest, webapp: webapp.sort(), aalto, transcoded });
}
