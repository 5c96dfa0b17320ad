// compareWithPrevious reads the version list from `pipe versions --json`, which names each version
// whose manifest it could not read under `unreadable` (and exits 6). The comparison must still
// find the newest version by ID, whether readable or not: an unreadable newest version is said on
// the page, never skipped for an older one; an unreadable older version does not matter.
// Real CLI (PIPE_CLI), real file:// remote; the versions are put there as a push would leave them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRemote } from '../lib/remote/open.js';
import type { VersionId } from '../lib/remote/remote-path.js';
import { compareWithPrevious } from '../lib/stage-api/index.js';
import { pipeCli } from './report-run.js';

const OLD = '2026-11-20_09-00-00_host-ann' as VersionId;
const MID = '2026-11-21_09-00-00_host-bob' as VersionId;
const NEW = '2026-11-22_09-00-00_host-cy' as VersionId;
const sha = (c: string) => c.repeat(64);
const entry = {
  fingerprint: sha('f'),
  cmd: {},
  deps: {},
  params: {},
  env: {},
  outs: { 'out.txt': { sha256: sha('a'), size: 1 } },
};
const manifest = (id: VersionId) =>
  JSON.stringify({
    format: 1,
    id,
    pushedBy: 'bob@host',
    pushedAt: '2026-11-21T09:00:00.000Z',
    notes: '',
    stages: { make: { lock: entry, files: [{ path: 'out.txt', sha256: sha('a'), size: 1 }] } },
  });

describe('compareWithPrevious with unreadable versions on the remote', () => {
  let ws: string;
  let store: string;
  const compare = (version?: string) =>
    compareWithPrevious({
      workspace: ws,
      self: 'report',
      remoteUrl: `file://${store}`,
      gcsEndpoint: undefined,
      version,
    });

  beforeAll(async () => {
    ws = mkdtempSync(join(tmpdir(), 'pipe-compare-'));
    store = mkdtempSync(join(tmpdir(), 'pipe-store-'));
    writeFileSync(join(ws, 'pipeline.yaml'), 'stages:\n  make: { cmd: "true", outs: [out.txt] }\n');
    writeFileSync(
      join(ws, 'pipeline.lock'),
      JSON.stringify({ version: 1, stages: { make: entry } }),
    );
    const opened = await openRemote(`file://${store}`, { workspace: ws });
    if (!opened.ok) throw new Error(opened.error);
    for (const [id, text] of [
      [OLD, 'not a manifest'],
      [MID, manifest(MID)],
      [NEW, '{"format": 1}'],
    ] as const) {
      expect((await opened.value.putManifest(id, text)).ok).toBe(true);
    }
    process.env.PIPE_CLI = pipeCli;
  });
  afterAll(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });

  it('says the newest version is unreadable rather than comparing with an older one', async () => {
    const got = await compare();
    expect(got).toMatchObject({ status: 'unavailable', remote: `file://${store}` });
    expect(got.status === 'unavailable' && got.reason).toMatch(
      new RegExp(`^reading version ${NEW}: `),
    );
  });

  it('compares with a readable version when only older ones are unreadable', async () => {
    // Built for NEW itself: the version before it is MID; OLD's broken manifest does not matter.
    expect(await compare(NEW)).toEqual({
      status: 'compared',
      remote: `file://${store}`,
      previous: { id: MID, pushed_by: 'bob@host', pushed_at: '2026-11-21T09:00:00.000Z' },
      stages: [
        {
          stage: 'make',
          status: 'same',
          added: 0,
          removed: 0,
          changed: 0,
          unchanged: 1,
          records: [],
        },
      ],
      totals: { added: 0, removed: 0, changed: 0, unchanged: 1 },
    });
  });

  it('says so when PIPE_CLI is not set (the stage was not started by pipe build)', async () => {
    delete process.env.PIPE_CLI;
    try {
      expect(await compare()).toMatchObject({
        status: 'unavailable',
        reason: expect.stringContaining('PIPE_CLI is not set'),
      });
    } finally {
      process.env.PIPE_CLI = pipeCli;
    }
  });
});
