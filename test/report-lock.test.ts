// Reading the pipeline.lock fingerprints the report page shows (stages/report/lock.ts, through the
// tool's own lib/build/lockfile.ts): the report's own entry is left out, and a broken lock is said on
// the page, not thrown.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLockFingerprints } from '../lib/stage-api/index.js';
import { lockWith } from './report-fixture.js';

let ws = '';
function withLock(text: string | null): string {
  ws = mkdtempSync(join(tmpdir(), 'pipe-report-lock-'));
  if (text !== null) writeFileSync(join(ws, 'pipeline.lock'), text);
  return ws;
}
afterEach(() => rmSync(ws, { recursive: true, force: true }));

describe('readLockFingerprints', () => {
  it('reads every stage but the report, sorted by name', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64));
    expect(
      readLockFingerprints(withLock(lockWith({ keypairs: b!, clean: a!, report: c! })), 'report'),
    ).toEqual({ status: 'read', fingerprints: { clean: a, keypairs: b } });
  });

  it('says absent when there is no lock', () => {
    expect(readLockFingerprints(withLock(null), 'report')).toEqual({ status: 'absent' });
  });

  it("says unreadable, with the lock reader's reason, when it is not a valid lock", () => {
    const broken = readLockFingerprints(
      withLock('{"version": 1, "stages": {"clean": {"fingerprint": "f00d"}}}'),
      'report',
    );
    expect(broken.status).toBe('unreadable');
    expect(broken.status === 'unreadable' && broken.reason).toContain(
      'stages.clean.fingerprint must be a sha256',
    );
    expect(readLockFingerprints(withLock('not json'), 'report')).toMatchObject({
      status: 'unreadable',
    });
  });
});
