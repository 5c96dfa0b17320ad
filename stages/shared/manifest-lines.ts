// data/raw/manifest.json read a line at a time (docs/data-tables.md: one upload per line, sorted
// by path). An incremental download or clean looks up only the uploads the runner named as
// changed, and download writes the next manifest by splicing their lines into the previous text:
// at 241,605 uploads, parsing the 30 MB and writing it back from objects cost ~1 s per stage for
// one new upload; the splice copies bytes. A manifest not in that layout (written by an older
// download, or edited) is parsed whole once and laid out so.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import {
  countLines,
  lineNumber,
  seekLine,
  seekLineInFile,
  withoutComma,
  type LineRegion,
} from './sorted-lines.js';
import { manifestText, type ManifestFile, type RawManifest } from './uploads.js';

// The header names how many uploads follow (`"count"`, since 2026-12-05): a manifest without it
// is still read, its lines counted.
const HEADER = /^\{"source":(.*?)(?:,"count":(0|[1-9][0-9]*))?,"files":\[$/;
const TAIL = /^\],"deleted":(\[.*\])\}$/;
const pathOf = (line: string): string => (JSON.parse(withoutComma(line)) as ManifestFile).path;
/** An entry line's path; undefined for the lines around the entries (they sort after them). */
const entryPathOf = (line: string): string | undefined =>
  line.startsWith('{') ? pathOf(line) : undefined;

/** The manifest's text and what is read from it once it is read whole. */
interface Whole {
  readonly deleted: readonly string[];
  readonly files: LineRegion;
}

export class ManifestLines {
  #whole: Whole | undefined;

  private constructor(
    readonly source: string,
    /** The header's upload count, if it has one. */
    private readonly declared: number | undefined,
    whole: Whole | undefined,
    /** For a manifest opened (not read): its file and where its entries start. */
    private readonly onDisk?: { readonly path: string; readonly entries: number },
  ) {
    this.#whole = whole;
  }

  /** Reads the manifest at `path`; throws when it is missing or not a manifest. */
  static read(path: string): ManifestLines {
    return ManifestLines.fromText(readFileSync(path));
  }

  /**
   * The manifest at `path` for lookups (find, count) without reading it whole, when its header
   * gives the count: an incremental clean looks up the few uploads it rebuilds in a 36 MB file
   * (reading it was ~35 ms). Anything else reads it whole first. Throws as read() does.
   */
  static open(path: string): ManifestLines {
    const fd = openSync(path, 'r');
    let head: Buffer;
    try {
      head = Buffer.allocUnsafe(1 << 16);
      head = head.subarray(0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
    const headerEnd = head.indexOf(10) + 1;
    const header = headerEnd === 0 ? null : HEADER.exec(head.toString('utf8', 0, headerEnd - 1));
    if (header === null || header[2] === undefined) return ManifestLines.read(path);
    let source: unknown;
    try {
      source = JSON.parse(header[1]!);
    } catch {
      return ManifestLines.read(path);
    }
    if (typeof source !== 'string') return ManifestLines.read(path);
    return new ManifestLines(source, Number(header[2]), undefined, { path, entries: headerEnd });
  }

  /** Whether the text has been read whole (a manifest opened is not, for count and find). */
  get wasRead(): boolean {
    return this.#whole !== undefined;
  }

  /** Uploads deleted upstream, as the manifest lists them. */
  get deleted(): readonly string[] {
    return this.#read().deleted;
  }

  /** The whole text, read now if it was only opened (checked to be the manifest opened). */
  #read(): Whole {
    if (this.#whole !== undefined) return this.#whole;
    const read = ManifestLines.read(this.onDisk!.path);
    if (read.source !== this.source || read.declared !== this.declared)
      throw new Error(`${this.onDisk!.path} changed while it was read`);
    this.#whole = read.#read();
    return this.#whole;
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
      const files = { text, start: headerEnd, end };
      const declared = header[2] === undefined ? undefined : Number(header[2]);
      if (declared !== undefined && declared !== countLines(files)) return undefined;
      return new ManifestLines(source, declared, { deleted: deleted as string[], files });
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

  /** How many uploads it lists (the header's count, else counts lines; parses none). */
  count(): number {
    return this.declared ?? countLines(this.#read().files);
  }

  /** The entry of upload `path`, or undefined when it lists none. */
  find(path: string): ManifestFile | undefined {
    if (this.#whole === undefined) {
      let line: string | undefined;
      try {
        line = seekLineInFile(this.onDisk!.path, this.onDisk!.entries, path, entryPathOf);
      } catch {
        return this.#findIn(this.#read().files, path); // not the layout looked for: read whole
      }
      return line === undefined ? undefined : JSON.parse(withoutComma(line));
    }
    return this.#findIn(this.#whole.files, path);
  }

  #findIn(files: LineRegion, path: string): ManifestFile | undefined {
    const at = seekLine(files, path, pathOf);
    if (!at.found) return undefined;
    return JSON.parse(withoutComma(files.text.toString('utf8', at.start, at.end - 1)));
  }

  /** The 0-based position of upload `path` in `files`, or -1 (reads the lines before it: messages only). */
  indexOf(path: string): number {
    const files = this.#read().files;
    const at = seekLine(files, path, pathOf);
    return at.found ? lineNumber(files, at.start) : -1;
  }

  /** Every entry (parses the whole list: for a build from scratch). */
  all(): ManifestFile[] {
    const { text, start, end } = this.#read().files;
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
    const { text, start, end } = this.#read().files;
    const edits = [
      ...placed.map((file) => ({ path: file.path, line: JSON.stringify(file) })),
      ...gone.map((path) => ({ path, line: undefined })),
    ].sort(byPath);
    // Every entry line is copied as ending in ",\n"; the last one's comma is dropped at the end.
    // The header, which names the count, goes in front once the count is known.
    const pieces: Buffer[] = [];
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
    pieces.unshift(
      Buffer.from(`{"source":${JSON.stringify(source)},"count":${uploads},"files":[\n`),
    );
    return { pieces, uploads, deleted };
  }
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
