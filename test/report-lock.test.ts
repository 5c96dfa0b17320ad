// Reading the pipeline.lock fingerprints the report page shows (stages/report/lock.ts): the report's
// own entry is left out, both map and list shapes are read, and a broken lock is said, not thrown.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLockFingerprints } from '../stages/report/lock.js';

let ws = '';
function withLock(text: string | null): string {
  ws = mkdtempSync(join(tmpdir(), 'pipe-report-lock-'));
  if (text !== null) writeFileSync(join(ws, 'pipeline.lock'), text);
  return ws;
}
afterEach(() => rmSync(ws, { recursive: true, force: true }));

describe('readLockFingerprints', () => {
  it('reads a stages map, sorted by name, without the report\'s own entry', () => {
    const lock = 'version: 1\nstages:\n  keypairs:\n    fingerprint: bb\n  clean:\n    fingerprint: aa\n  report:\n    fingerprint: cc\n';
    expect(readLockFingerprints(withLock(lock), 'report')).toEqual({ status: 'read', fingerprints: { clean: 'aa', keypairs: 'bb' } });
  });

  it('reads a JSON list of entries with names', () => {
    const lock = JSON.stringify({ stages: [{ name: 'features', fingerprint: 'ff' }, { name: 'download', fingerprint: 'dd' }] });
    expect(readLockFingerprints(withLock(lock), 'report')).toEqual({ status: 'read', fingerprints: { download: 'dd', features: 'ff' } });
  });

  it('says absent when there is no lock and unreadable when it does not parse or has no stages', () => {
    expect(readLockFingerprints(withLock(null), 'report')).toEqual({ status: 'absent' });
    expect(readLockFingerprints(withLock('stages: [unclosed\n'), 'report')).toMatchObject({ status: 'unreadable' });
    expect(readLockFingerprints(withLock('version: 1\n'), 'report')).toEqual({ status: 'unreadable', reason: 'no "stages" entries found' });
  });
});
