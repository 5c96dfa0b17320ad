// The report's "Compared with version X" section: the report stage run as the runner starts it
// (report-run.ts) on the hand-written tables, with a hand-written pipeline.lock and file list, and
// versions put on a real file:// remote through lib/remote/remote.ts (as a teammate's push would leave
// them). Every expected count is read off the stage sets written out below.
//
//   workspace (pipeline.lock)            V2 (newest)                       V1 (older)
//   clean  data/clean/keystrokes  1      data/clean/keystrokes  1  same    same three files as here
//          data/clean/rejects     2      data/clean/rejects     9  changed
//          data/clean/sessions    3      (absent)                  added
//          (absent)                      data/clean/old         4  removed
//          records keystrokes 13, s 4    keystrokes 15, sessions 4         keystrokes 13, sessions 4
//   features data/features/seq    5      data/features/seq      5  same    same
//   (no keypairs stage)                  data/keypairs/kp       6  stage gone
//   report (this stage: left out)        reports/index.html        left out
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { saveManifest } from '../lib/observe/manifest-store.js';
import { openRemote } from '../lib/remote/open.js';
import type { VersionId } from '../lib/remote/remote-path.js';
import { compareWithPrevious } from '../lib/stage-api/index.js';
import type { ReportSummary } from '../stages/report/summary.js';
import { writeReportInputs } from './report-fixture.js';
import { pipeCli, runReportStage, tempWorkspace } from './report-run.js';

const sha = (c: string) => c.repeat(64) as Sha256Hex;
const file = (path: string, c: string) => ({ path, sha256: sha(c), size: 10 });
const entry = (outs: Record<string, unknown>, records?: Record<string, number>) => ({
  fingerprint: sha('f'),
  cmd: {},
  deps: {},
  params: {},
  env: {},
  outs,
  ...(records === undefined ? {} : { metrics: { records } }),
});
const V1 = '2026-11-20_09-00-00_host-ann' as VersionId;
const V2 = '2026-11-21_09-00-00_host-bob' as VersionId;

const hereClean = [
  file('data/clean/keystrokes.parquet', '1'),
  file('data/clean/rejects.parquet', '2'),
  file('data/clean/sessions.parquet', '3'),
];
const seq = file('data/features/sequences.parquet', '5');

function manifest(
  id: VersionId,
  stages: Record<string, { lock: unknown; files: unknown[] }>,
): string {
  return JSON.stringify({
    format: 1,
    id,
    pushedBy: `${id.split('-').at(-1)}@host`,
    pushedAt: '2026-11-21T09:00:00.000Z',
    notes: '',
    stages,
  });
}

describe('the report compared with the previous version', () => {
  let ws: string;
  let store: string;
  const summary = (env: Record<string, string>) => {
    const run = runReportStage(ws, env);
    expect(run.status, run.stderr).toBe(0);
    return {
      s: JSON.parse(readFileSync(join(run.outDir, 'summary.json'), 'utf8')) as ReportSummary,
      html: readFileSync(join(run.outDir, 'index.html'), 'utf8'),
    };
  };

  beforeAll(async () => {
    ws = tempWorkspace();
    const cleanSha = await saveManifest(ws, 'data/clean', hereClean);
    const lock = {
      version: 1,
      stages: {
        clean: entry(
          { 'data/clean': { sha256: cleanSha, size: 30, files: 3 } },
          { keystrokes: 13, sessions: 4 },
        ),
        features: entry({ [seq.path]: { sha256: seq.sha256, size: 10 } }, { sequences: 2 }),
        report: entry({ reports: { sha256: sha('e'), size: 10, files: 1 } }),
      },
    };
    await writeReportInputs(ws, { lock: `${JSON.stringify(lock, null, 2)}\n` });
    // The comparison asks `pipe versions diff` (PIPE_CLI), which reads the workspace's pipeline.
    writeFileSync(
      join(ws, 'pipeline.yaml'),
      [
        'stages:',
        '  clean: { cmd: "true", outs: [data/clean] }',
        '  features: { cmd: "true", deps: [data/clean], outs: [data/features/sequences.parquet] }',
        '  report: { cmd: "true", deps: [data/features/sequences.parquet], outs: [reports] }',
        '',
      ].join('\n'),
    );
    process.env.PIPE_CLI = pipeCli; // as the runner sets it, for the calls made in this process
    store = mkdtempSync(join(tmpdir(), 'pipe-store-'));
    const opened = await openRemote(`file://${store}`, { workspace: ws });
    if (!opened.ok) throw new Error(opened.error);
    const outs = { 'data/clean': { sha256: sha('c'), size: 30, files: 3 } };
    const report = {
      lock: entry({ reports: { sha256: sha('d'), size: 10, files: 1 } }),
      files: [file('reports/index.html', 'd')],
    };
    const features = {
      lock: entry({ [seq.path]: { sha256: seq.sha256, size: 10 } }, { sequences: 2 }),
      files: [seq],
    };
    for (const [id, text] of [
      [
        V1,
        manifest(V1, {
          clean: { lock: entry(outs, { keystrokes: 13, sessions: 4 }), files: hereClean },
          features,
          report,
        }),
      ],
      [
        V2,
        manifest(V2, {
          clean: {
            lock: entry(outs, { keystrokes: 15, sessions: 4 }),
            files: [
              file('data/clean/keystrokes.parquet', '1'),
              file('data/clean/old.parquet', '4'),
              file('data/clean/rejects.parquet', '9'),
            ],
          },
          features,
          keypairs: {
            lock: entry({ 'data/keypairs': { sha256: sha('b'), size: 10, files: 1 } }),
            files: [file('data/keypairs/keypairs.parquet', '6')],
          },
          report,
        }),
      ],
    ] as const) {
      const put = await opened.value.putManifest(id, text);
      expect(put.ok).toBe(true);
    }
  });
  afterAll(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });

  it('compares the outputs with the newest version, per stage, in summary.json and on the page', () => {
    const { s, html } = summary({ PIPE_REMOTE: `file://${store}` });
    expect(s.version_diff).toEqual({
      status: 'compared',
      remote: `file://${store}`,
      previous: { id: V2, pushed_by: 'bob@host', pushed_at: '2026-11-21T09:00:00.000Z' },
      stages: [
        {
          stage: 'clean',
          status: 'changed',
          added: 1,
          removed: 1,
          changed: 1,
          unchanged: 1,
          records: [
            { name: 'keystrokes', before: 15, after: 13 },
            { name: 'sessions', before: 4, after: 4 },
          ],
        },
        {
          stage: 'features',
          status: 'same',
          added: 0,
          removed: 0,
          changed: 0,
          unchanged: 1,
          records: [{ name: 'sequences', before: 2, after: 2 }],
        },
        {
          stage: 'keypairs',
          status: 'removed',
          added: 0,
          removed: 1,
          changed: 0,
          unchanged: 0,
          records: [],
        },
      ],
      totals: { added: 1, removed: 2, changed: 1, unchanged: 2 },
    });
    expect(html).toContain(`<h2 id="version-diff">Compared with version ${V2}</h2>`);
    expect(html).toContain(
      '<tr><td>clean</td><td class="num">1</td><td class="num">1</td><td class="num">1</td><td class="num">1</td><td>keystrokes 15 → 13<br>sessions 4 → 4</td></tr>',
    );
    expect(html).toContain(
      '<tr><td>keypairs (stage gone)</td><td class="num">0</td><td class="num">1</td>',
    );
    expect(html).toContain(
      '<tr><td>total</td><td class="num">1</td><td class="num">2</td><td class="num">1</td><td class="num">2</td><td></td></tr>',
    );
  });

  it("compares a published version's report with the version before it, never with itself", () => {
    const { s, html } = summary({ PIPE_REMOTE: `file://${store}`, PIPE_VERSION: V2 });
    expect(s.version_diff).toMatchObject({
      status: 'compared',
      previous: { id: V1 },
      totals: { added: 0, removed: 0, changed: 0, unchanged: 4 },
    });
    expect(html).toContain(`Compared with version ${V1}`);
  });

  it('says so when the remote has no version yet', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pipe-store-'));
    const { s, html } = summary({ PIPE_REMOTE: `file://${empty}` });
    rmSync(empty, { recursive: true, force: true });
    expect(s.version_diff).toEqual({ status: 'no-previous', remote: `file://${empty}` });
    expect(html).toContain(
      `No previous version to compare with: none is published on <code>file://${empty}</code> yet.`,
    );
    expect(html).not.toContain('id="version-diff"');
  });

  it('turns no remote, an unusable remote or an unknown own file list into a status, never a throw', async () => {
    const base = { workspace: ws, self: 'report', gcsEndpoint: undefined, version: undefined };
    expect(await compareWithPrevious({ ...base, remoteUrl: undefined })).toEqual({
      status: 'no-remote',
    });
    expect(await compareWithPrevious({ ...base, remoteUrl: 'ftp://nowhere' })).toMatchObject({
      status: 'unavailable',
      remote: 'ftp://nowhere',
    });
    // Without the report leaving itself out, its folder's file list (never stored here) is missing.
    expect(
      await compareWithPrevious({ ...base, self: 'none', remoteUrl: `file://${store}` }),
    ).toMatchObject({
      status: 'unavailable',
      reason: expect.stringContaining(
        'the file list of reports (stage report) is not in .pipe/manifests',
      ),
    });
  });
});
