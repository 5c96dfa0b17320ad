// `.pipe/remotes/<key>/objects.txt`: the objects this workspace knows a remote holds, because it
// uploaded them or saw them listed. Objects are create-only and never changed, so the record
// only goes wrong if someone deletes objects on the remote behind our back. That is why push
// trusts it but verifies it (see push.ts): one list request over a sample folder per push, and
// the whole record is dropped the moment the remote disagrees.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { readCacheLines } from '../util/cache-file.js';
import type { Sha256Hex } from '../util/sha256.js';

const SHA = /^[0-9a-f]{64}$/;

/** The folder under .pipe/ for what we remember about one remote (keyed by its URL). */
export function remoteStateDir(workspace: string, remoteUrl: string): string {
  const key = createHash('sha256').update(remoteUrl).digest('hex').slice(0, 16);
  return join(workspace, '.pipe', 'remotes', key);
}

export class KnownObjects {
  readonly #path: string;
  readonly #url: string;
  readonly #shas: Set<Sha256Hex>;
  #dirty = false;

  private constructor(path: string, url: string, shas: Set<Sha256Hex>) {
    this.#path = path;
    this.#url = url;
    this.#shas = shas;
  }

  /** Loads the record; a missing or unreadable one is empty (it is only an optimisation). */
  static load(workspace: string, remoteUrl: string): KnownObjects {
    const path = join(remoteStateDir(workspace, remoteUrl), 'objects.txt');
    const shas = new Set<Sha256Hex>();
    // The first line names the remote: a hash collision of URLs must not mix two records. Missing
    // or damaged: start from nothing, the remote's listing will tell us.
    for (const line of readCacheLines(path, `# ${remoteUrl}`) ?? [])
      if (SHA.test(line)) shas.add(line as Sha256Hex);
    return new KnownObjects(path, remoteUrl, shas);
  }

  has(sha: Sha256Hex): boolean {
    return this.#shas.has(sha);
  }

  add(sha: Sha256Hex): void {
    if (!this.#shas.has(sha)) {
      this.#shas.add(sha);
      this.#dirty = true;
    }
  }

  /** The remote contradicted us: forget everything rather than guess what else went missing. */
  forgetAll(): void {
    this.#shas.clear();
    this.#dirty = true;
  }

  async save(): Promise<void> {
    if (!this.#dirty) return;
    await writeFileAtomic(this.#path, `# ${this.#url}\n${[...this.#shas].join('\n')}\n`);
    this.#dirty = false;
  }
}
