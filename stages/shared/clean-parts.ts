// clean's part bookkeeping (docs/data-tables.md, data/clean/parts/<part>.json): which uploads a
// part holds (with their manifest identity), the keys that tie uploads together, and the part's
// counts for summary.json. A key is what makes one upload's rows depend on another's:
//   w:<session_id>   a valid web-app upload: duplicate_upload and session_id_conflict compare uploads
//                    of one session_id, and a kept session is one upload;
//   a:<user_id>      an Aalto participant with kept rows: a section (session) may span files, and
//                    its keystroke count, order and texts are computed over all of them.
// A participant is coarser than a session (user_id, section), which is still correct: uploads that
// share a key always land in one part, and sharing a participant but not a section only means
// they are built together. Two parts never share a key, so each part is a pure function of its own
// uploads, and the union of the parts equals one build over all uploads.
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { readAt, seekLine, withoutComma, type LineRegion } from './sorted-lines.js';
import { uploadFormat, type ManifestFile } from './uploads.js';

/** Per-part counts; summary.json adds them up (sessions and users are counted over all parts). */
export interface PartCounts {
  readonly webapp_files: number;
  readonly aalto_files: number;
  /** Events of accepted web-app uploads, data lines of Aalto files. */
  readonly events_in: number;
  readonly rows_in: number;
  readonly keystrokes: { readonly webapp: number; readonly aalto: number };
  readonly rejected: {
    readonly webapp: Readonly<Record<string, number>>;
    readonly aalto: Readonly<Record<string, number>>;
  };
  readonly unknown_fields: Readonly<Record<string, number>>;
  readonly files_decoded_as_latin1: readonly string[];
}

export interface PartRecord {
  readonly id: string;
  /** Uploads (paths under data/raw), sorted, each with its identity from data/raw/manifest.json. */
  readonly members: readonly ManifestFile[];
  /** Sorted. */
  readonly keys: readonly string[];
  readonly counts: PartCounts;
}

/** The three tables every part writes, one Parquet file each (empty, with the schema, if no rows). */
export const PART_TABLES = ['keystrokes', 'rejects', 'sessions'] as const;

export function partId(n: number): string {
  return `part-${String(n).padStart(6, '0')}`;
}

export function partNumber(id: string): number {
  return Number(id.slice('part-'.length));
}

const PART_FILE = /^part-\d{6}\.json$/;

/**
 * A part's record as written, read lazily: its counts and keys at once (the head of the file),
 * whether it holds a key by binary search over its key lines (stages/shared/sorted-lines.ts), its
 * members (four fifths of its bytes) only when asked, the whole record only when the part is
 * rebuilt. WHY: an incremental run at 241,605 uploads parsed 49 MB of records (~0.3 s) and mapped
 * every upload (~0.5 s) to learn which of 16 parts one new upload touches; then read all 49 MB
 * (~50 ms of each run) where new uploads need only the parts' keys.
 */
export class PartFile {
  private parsed: PartRecord | undefined;
  private whole: Buffer | undefined;

  private constructor(
    readonly id: string,
    readonly counts: PartCounts,
    private readonly path: string,
    private readonly head: Buffer,
    private readonly keys: LineRegion,
    private readonly membersStart: number,
  ) {}

  /** The record `parts/<id>.json` of `out` in the layout writePart writes, or null if it is not. */
  static read(out: string, id: string): PartFile | null {
    const path = join(out, 'parts', `${id}.json`);
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      // The record must end as writePart ends it; the members before are checked when read.
      if (size < END.length || readAt(fd, size - END.length, END.length).toString() !== END)
        return null;
      let head = Buffer.alloc(0);
      let between = -1;
      for (let want = HEAD_BYTES; between === -1 && head.length < size; want *= 4) {
        head = readAt(fd, 0, Math.min(size, want));
        between = head.indexOf(BETWEEN);
      }
      const first = head.indexOf(10) + 1;
      const line = head.toString('utf8', 0, first);
      if (!line.startsWith(COUNTS) || !line.endsWith(',\n') || !at(head, first, KEYS)) return null;
      const keysStart = first + KEYS.length;
      if (between === -1 || between < keysStart - 1) return null;
      const membersStart = between + BETWEEN.length;
      if (size - END.length < membersStart) return null;
      const counts = JSON.parse(line.slice(COUNTS.length, -2)) as PartCounts;
      const keys = { text: head, start: keysStart, end: between + 1 };
      return new PartFile(id, counts, path, head, keys, membersStart);
    } finally {
      closeSync(fd);
    }
  }

  hasKey(key: string): boolean {
    return seekLine(this.keys, key, keyOfLine).found;
  }

  hasMember(path: string): boolean {
    const text = this.text();
    const members = { text, start: this.membersStart, end: text.length - END.length };
    return seekLine(members, path, pathOfLine).found;
  }

  /** The whole record (parsed once). */
  record(): PartRecord {
    if (this.parsed !== undefined) return this.parsed;
    const record = JSON.parse(this.text().toString('utf8')) as Omit<PartRecord, 'id'>;
    if (!Array.isArray(record.members) || !Array.isArray(record.keys))
      throw new Error(`parts/${this.id}.json has no "members" and "keys" arrays`);
    this.parsed = { id: this.id, ...record };
    return this.parsed;
  }

  /** The file's bytes, read once; the head read first must be where it was. */
  private text(): Buffer {
    if (this.whole !== undefined) return this.whole;
    const whole = readFileSync(this.path);
    const membersEnd = whole.length - END.length;
    if (
      !whole.subarray(0, this.head.length).equals(this.head) ||
      !at(whole, membersEnd, END) ||
      (membersEnd > this.membersStart && whole[membersEnd - 1] !== 10)
    )
      throw new Error(`parts/${this.id}.json changed while clean read it`);
    this.whole = whole;
    return whole;
  }
}

/** Bytes of a record read first: a 10M web-app part's counts and keys are ~0.6 MB. */
const HEAD_BYTES = 1 << 20;

const COUNTS = '{"counts":';
const KEYS = '"keys":[\n';
const BETWEEN = '\n],\n"members":[\n';
const END = ']}\n';
const keyOfLine = (line: string): string => JSON.parse(withoutComma(line)) as string;
const pathOfLine = (line: string): string => (JSON.parse(withoutComma(line)) as ManifestFile).path;

function at(text: Buffer, offset: number, expected: string): boolean {
  return text.toString('utf8', offset, offset + expected.length) === expected;
}

/**
 * The parts recorded in `out` (an incremental run's previous outputs), or null if any is unreadable
 * or lacks one of its table files.
 */
export function readParts(out: string): PartFile[] | null {
  const dir = join(out, 'parts');
  if (!existsSync(dir)) return null;
  const parts: PartFile[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!PART_FILE.test(name)) return null;
    const id = name.slice(0, -'.json'.length);
    try {
      const part = PartFile.read(out, id);
      if (part === null) return null;
      for (const table of PART_TABLES)
        if (!existsSync(join(out, table, `${id}.parquet`))) return null;
      parts.push(part);
    } catch {
      return null;
    }
  }
  return parts;
}

/** Writes a file by rename, never into an existing one: out may hold hard links to the lock's outputs. */
export function replaceFile(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

/**
 * Writes the part's record as JSON with one key and one member per line, each list sorted, the
 * counts on the first line: the layout PartFile reads without parsing the whole.
 */
export function writePart(out: string, part: PartRecord): void {
  const keys = [...part.keys].sort().map((k) => JSON.stringify(k));
  // path first: PartFile finds a member by the path its line starts with.
  const members = [...part.members]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map(({ path, ...identity }) => JSON.stringify({ path, ...identity }));
  const text = [
    `${COUNTS}${JSON.stringify(part.counts)},`,
    '"keys":[',
    ...arrayLines(keys),
    '],',
    '"members":[',
    ...arrayLines(members),
    ']}',
  ];
  replaceFile(join(out, 'parts', `${part.id}.json`), `${text.join('\n')}\n`);
}

function arrayLines(items: readonly string[]): string[] {
  return items.map((item, i) => (i < items.length - 1 ? `${item},` : item));
}

export function removePart(out: string, id: string): void {
  for (const table of PART_TABLES) rmSync(join(out, table, `${id}.parquet`), { force: true });
  rmSync(join(out, 'parts', `${id}.json`), { force: true });
}

/**
 * The key an upload's NAME suggests (`<session_id>.session.json[.gz]`, `<participant>_keystrokes.txt`),
 * used to place it before it is read. Only a guess: after a part is built its keys come from the
 * contents, and parts that turn out to share one are merged and built again (clean.ts).
 */
export function nameKey(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (uploadFormat(path) === 'webapp') return `w:${name.replace(/\.session\.json(\.gz)?$/, '')}`;
  return `a:${name.replace(/_keystrokes\.txt$/, '')}`;
}

/**
 * Uploads -> groups of at most about `budget` bytes, in path order, uploads with the same name
 * key always in one group (a group may pass the budget by its last key's uploads).
 */
export function packByName(files: readonly ManifestFile[], budget: number): ManifestFile[][] {
  const byKey = new Map<string, ManifestFile[]>();
  for (const file of files) {
    const key = nameKey(file.path);
    const same = byKey.get(key);
    if (same === undefined) byKey.set(key, [file]);
    else same.push(file);
  }
  const groups: ManifestFile[][] = [];
  let current: ManifestFile[] = [];
  let bytes = 0;
  for (const same of byKey.values()) {
    if (current.length > 0 && bytes + sumSizes(same) > budget) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(...same);
    bytes += sumSizes(same);
  }
  if (current.length > 0) groups.push(current);
  return groups.map((g) => g.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)));
}

function sumSizes(files: readonly ManifestFile[]): number {
  return files.reduce((n, f) => n + f.size, 0);
}
