// Which of an incremental clean's previous parts holds an upload or a key. A few lookups search
// each part's record by binary search (stages/shared/clean-parts.ts, PartFile); past LOOKUP_LIMIT
// searches (many changed uploads, or many parts) every record is parsed once into two maps, which
// costs what a pass over every upload costs (~0.5 s at 241,605 uploads) and makes each further
// lookup a map read. So one new upload costs lookups and 1,000 new ones never ~1,000 x parts
// binary searches (2-4 s over the ~100 parts of the 136M Aalto set).
import type { PartFile } from './clean-parts.js';

/** Binary searches (one part, one path or key) before the records are read whole instead. */
const LOOKUP_LIMIT = 10_000;

export class PartLookup {
  private readonly parts: Map<string, PartFile>;
  private searches = 0;
  private maps: { members: Map<string, string>; keys: Map<string, string> } | undefined;

  /** `limit`: searches before the records are read whole (a test sets 0 to check both ways agree). */
  constructor(
    parts: readonly PartFile[],
    private readonly limit = LOOKUP_LIMIT,
  ) {
    this.parts = new Map(parts.map((p) => [p.id, p]));
  }

  /** The part (still here) holding upload `path`, if any. */
  holderOf(path: string): string | undefined {
    return this.find(path, 'members', (part) => part.hasMember(path));
  }

  /** The part (still here) holding key `key`, if any. */
  ownerOf(key: string): string | undefined {
    return this.find(key, 'keys', (part) => part.hasKey(key));
  }

  get(id: string): PartFile | undefined {
    return this.parts.get(id);
  }

  /** Takes a part out: lookups no longer name it. */
  delete(id: string): void {
    this.parts.delete(id);
  }

  values(): IterableIterator<PartFile> {
    return this.parts.values();
  }

  private find(
    item: string,
    kind: 'members' | 'keys',
    holds: (part: PartFile) => boolean,
  ): string | undefined {
    if (this.maps === undefined && this.searches + this.parts.size > this.limit) this.readAll();
    if (this.maps !== undefined) {
      const id = this.maps[kind].get(item);
      return id !== undefined && this.parts.has(id) ? id : undefined;
    }
    this.searches += this.parts.size;
    for (const part of this.parts.values()) if (holds(part)) return part.id;
    return undefined;
  }

  private readAll(): void {
    const members = new Map<string, string>();
    const keys = new Map<string, string>();
    for (const part of this.parts.values()) {
      const record = part.record();
      for (const m of record.members) members.set(m.path, part.id);
      for (const k of record.keys) keys.set(k, part.id);
    }
    this.maps = { members, keys };
  }
}
