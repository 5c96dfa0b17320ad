// samples/generate.ts without faults, in both formats (what the benchmark generates at scale):
// the same typing written as web-app uploads and as Aalto rows cleans without a single reject,
// to the same number of keystrokes as the uploads hold keydowns (counted here in plain JS).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace();
  for (const format of ['webapp', 'aalto']) {
    const r = spawnSync(
      'node',
      [
        '--import',
        'tsx',
        join(REPO, 'samples/generate.ts'),
        '--seed',
        '7',
        '--users',
        '3',
        '--sessions',
        '4',
        '--no-faults',
        '--format',
        format,
        '--out',
        join(ws.root, 'uploads', format),
      ],
      { cwd: REPO, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
  }
  runStages(ws.root, [
    { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } },
    {
      ...STAGES.clean,
      params: {
        'clean.max_hold_ms': 5000,
        'clean.min_keystrokes_per_session': 10,
        'clean.max_upload_bytes': 16777216,
        'clean.max_decompressed_bytes': 16777216,
      },
    },
  ]);
});
afterAll(() => ws.remove());

describe('the generator without faults', () => {
  it('writes 3 x 4 sessions as uploads and 3 participant files', () => {
    expect(
      readdirSync(join(ws.root, 'uploads/webapp')).filter((f) => f.endsWith('.session.json')),
    ).toHaveLength(12);
    expect(readdirSync(join(ws.root, 'uploads/aalto')).sort()).toEqual([
      '1_keystrokes.txt',
      '2_keystrokes.txt',
      '3_keystrokes.txt',
    ]);
  });

  it('cleans to the same keystrokes in both formats, rejecting nothing', () => {
    const dir = join(ws.root, 'uploads/webapp');
    const keydowns = readdirSync(dir).reduce(
      (sum, f) =>
        sum +
        (
          JSON.parse(readFileSync(join(dir, f), 'utf8')) as { events: { type: string }[] }
        ).events.filter((e) => e.type === 'down').length,
      0,
    );
    const summary = ws.json<{
      rejected: object;
      by_source: Record<
        string,
        { keystrokes_out: number; sessions_out: number; users_out: number }
      >;
    }>('data/clean/summary.json');
    expect(summary.rejected).toEqual({});
    expect(summary.by_source.webapp).toMatchObject({
      keystrokes_out: keydowns,
      sessions_out: 12,
      users_out: 3,
    });
    expect(summary.by_source.aalto).toMatchObject({
      keystrokes_out: keydowns,
      sessions_out: 12,
      users_out: 3,
    });
  });
});
