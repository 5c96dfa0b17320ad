// What clean reads from data/raw: the manifest, checked against the files beside it (the "input
// table check" for the raw folder), and Aalto files made readable as UTF-8. The Aalto files are
// Latin-1 where they are not UTF-8 (2404_keystrokes.txt); DuckDB's read_text needs UTF-8, and its
// other encodings live in an extension we must not load, so a file that is not valid UTF-8 is
// decoded here as Windows-1252 (what WHATWG means by "latin1": Latin-1 plus printable 0x80-0x9F)
// into a temporary UTF-8 copy. Its source_file stays the raw path.
// A full build checks every manifest entry; an incremental one only the uploads it reads (the
// parts it rebuilds): stat-ing 241,605 unchanged uploads would cost more than the new ones.
import { isUtf8 } from 'node:buffer';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Result } from '../../lib/stage-api/index.js';
import type { ManifestFile, RawManifest } from './uploads.js';

/** The raw folder's input check that failed (`rule`) and why. */
export interface RawInputFailure {
  readonly rule: string;
  readonly detail: string;
}

export function readManifest(rawRoot: string): Result<RawManifest, RawInputFailure> {
  let manifest: RawManifest;
  try {
    manifest = JSON.parse(readFileSync(join(rawRoot, 'manifest.json'), 'utf8')) as RawManifest;
  } catch (error) {
    return err({
      rule: 'readable',
      detail: `${(error as Error).message} (run the download stage)`,
    });
  }
  if (!Array.isArray(manifest.files))
    return err({ rule: 'columns', detail: 'manifest.json has no "files" array' });
  return ok(manifest);
}

/** Every one of `files` (manifest entries) is in data/raw with the size the manifest says. */
export function checkRawFiles(
  rawRoot: string,
  manifest: RawManifest,
  files: readonly ManifestFile[],
): Result<void, RawInputFailure> {
  for (const file of files) {
    const abs = join(rawRoot, file.path);
    if (!existsSync(abs) || statSync(abs).size !== file.size) {
      return err({
        rule: 'files_present',
        detail: `manifest entry ${manifest.files.indexOf(file)} ${JSON.stringify(file)} has no file of that size in data/raw`,
      });
    }
  }
  return ok(undefined);
}

export interface ReadableAalto {
  /** source_file (path under data/raw) -> absolute path of a UTF-8 file to read. */
  readonly aalto: Map<string, string>;
  readonly transcoded: string[];
}

/** Aalto uploads (paths under data/raw, sorted) as UTF-8 files; copies of the Latin-1 ones in `stagingDir`. */
export function readableAalto(
  rawRoot: string,
  paths: readonly string[],
  stagingDir: string,
): ReadableAalto {
  const aalto = new Map<string, string>();
  const transcoded: string[] = [];
  const latin1 = new TextDecoder('windows-1252');
  for (const path of paths) {
    const abs = join(rawRoot, path);
    // isUtf8 checks the bytes where they are; decoding each file only to learn whether it
    // decodes made a throwaway JS string of every file (1.3 GB of text at 10M keystrokes).
    const bytes = readFileSync(abs);
    if (isUtf8(bytes)) aalto.set(path, abs);
    else {
      const copy = join(stagingDir, `${aalto.size}.utf8.txt`);
      writeFileSync(copy, latin1.decode(bytes));
      aalto.set(path, copy);
      transcoded.push(path);
    }
  }
  return { aalto, transcoded };
}
