// data/raw/manifest.json read a line at a time (docs/data-tables.md: one upload per line, sorted
// by path). An incremental download or clean looks up only the uploads the runner named as
// changed, and download writes the next manifest by splicing their lines into the previous text:
// at 241,605 uploads, parsing the 30 MB and writing it back from objects cost ~1 s per stage for
// one new upload; the splice copies bytes. A manifest not in that layout (written by an older
// download, or edited) is parsed whole once and laid out so.
import { readFileSync } from 'node:fs';
import { countLines, lineNumber, seekLine, withoutComma, type LineRegion } from './sorted-lines.js';
import { manifestText, type ManifestFile, type RawManifest } from './uploads.js';

const HEADER = /^\{"source":(.*),"files":\[$/;
const TAIL = /^\],"deleted":(\[.*\])\}$/;
const pathOf = (line: string): string => (JSON.parse(withoutComma(line)) as ManifestFile).path;

export class ManifestLines {
  private constructor(
    readonly source: string,
    readonly deleted: readonly string[],
    private readonly files: LineRegion,
  ) {}

  /** Reads the manifest at `path`; throws when it is missing or not a manifest. */
  static read(path: string): ManifestLines {
    return ManifestLines.fromText(readFileSync(path));
  }

  static fromText(text: Buffer): ManifestLines {
    return ManifestLines.laidOut(text) ?? ManifestLines.reformatted(text);
  }

  /** The text as download writes it (manifestText), or undefined when it is laid out otherwise. */
  private static laidOut(text: Buffer): ManifestLines | undefined {
    const headerEnd = text.indexOf(10) + 1;
    const tailStart = text.lastIndexOf('\n],"deleted":') + 1;
    if (headerEnd === 0 || tailStart <= headerEnd || text.at(-1) !== 10) return undefined;
    const header = HEADER.exec(text.toString('utf8', 0, headerEnd - 1));
    const tail = TAIL.exec(text.toString('utf8', tailStart, text.length - 1));
    if (header === null || tail === null) return undefined;
    try {
      const source = JSON.parse(header[1]!) as unknown;
      const deleted = JSON.parse(tail[1]!) as unknown;
      if (typeof source !== 'string' || !Array.isArray(deleted)) return undefined;
      // No uploads is written as one empty line between the brackets.
      const end = tailStart - headerEnd === 1 ? headerEnd : tailStart;
      return new ManifestLines(source, deleted as string[], { text, start: headerEnd, end });
    } catch {
      return undefined;
    }
  }

  private static reformatted(text: Buffer): ManifestLines {
    const manifest = JSON.parse(text.toString('utf8')) as RawManifest;
    if (!Array.isArray(manifest.files)) throw new Error('manifest.json has no "files" array');
    const files = [...manifest.files].sort(byPath);
    const source = typeof manifest.source === 'string' ? manifest.source : '';
    const deleted = Array.isArray(manifest.deleted) ? manifest.deleted : [];
    const laid = ManifestLines.laidOut(Buffer.from(manifestText({ source, files, deleted })));
    if (laid === undefined) throw new Error('bug: manifestText wrote a manifest it cannot read');
    return laid;
  }

  /** How many uploads it lists (counts lines, parses none). */
  count(): number {
    return countLines(this.files);
  }

  /** The entry of upload `path`, or undefined when it lists none. */
  find(path: string): ManifestFile | undefined {
    const at = seekLine(this.files, path, pathOf);
    if (!at.found) return undefined;
    return JSON.parse(withoutComma(this.files.text.toString('utf8', at.start, at.end - 1)));
  }

  /** The 0-based position of upload `path` in `files`, or -1 (reads the lines before it: messages only). */
  indexOf(path: string): number {
    const at = seekLine(this.files, path, pathOf);
    return at.found ? lineNumber(this.files, at.start) : -1;
  }

  /** Every entry (parses the whole list: for a build from scratch). */
  all(): ManifestFile[] {
    const { text, start, end } = this.files;
    if (start === end) return [];
    return JSON.parse(`[${text.toString('utf8', start, end)}]`) as ManifestFile[];
  }

  /**
   * The text of the manifest after an incremental run: `placed` (new or replaced uploads) put in
   * at their places, `gone` (listed uploads deleted upstream) taken out and listed as deleted, a
   * placed path no longer deleted; every other line copied as it is. The same bytes manifestText
   * writes for the same uploads from scratch (test/download-incremental.test.ts).
   */
  afterChanges(
    source: string,
    placed: readonly ManifestFile[],
    gone: readonly string[],
  ): {
    /** The text in pieces, to write one after another (joining them copied 30 MB for nothing). */
    readonly pieces: readonly Buffer[];
    readonly uploads: number;
    readonly deleted: readonly string[];
  } {
    const { text, start, end } = this.files;
    const edits = [
      ...placed.map((file) => ({ path: file.path, line: JSON.stringify(file) })),
      ...gone.map((path) => ({ path, line: undefined })),
    ].sort(byPath);
    // Every entry line is copied as ending in ",\n"; the last one's comma is dropped at the end.
    const pieces: Buffer[] = [Buffer.from(`{"source":${JSON.stringify(source)},"files":[\n`)];
    const copy = (from: number, to: number) => {
      if (to <= from) return;
      if (to < end) pieces.push(text.subarray(from, to));
      else pieces.push(text.subarray(from, end - 1), Buffer.from(',\n'));
    };
    let uploads = this.count();
    let at = start;
    for (const edit of edits) {
      const place = seekLine({ text, start: at, end }, edit.path, pathOf);
      copy(at, place.start);
      at = place.end;
      if (place.found) uploads--;
      if (edit.line !== undefined) {
        pieces.push(Buffer.from(`${edit.line},\n`));
        uploads++;
      }
    }
    copy(at, end);
    const back = new Set(placed.map((f) => f.path));
    const deleted = [...new Set([...this.deleted.filter((p) => !back.has(p)), ...gone])].sort();
    // The last entry's ",\n" goes (no uploads: the header's '\n' and the tail's make the one empty
    // line manifestText writes).
    if (uploads > 0) {
      const last = pieces.pop()!;
      if (last.length > 2) pieces.push(last.subarray(0, -2));
    }
    pieces.push(Buffer.from(`\n],"deleted":${JSON.stringify(deleted)}}\n`));
    return { pieces, uploads, deleted };
  }
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
