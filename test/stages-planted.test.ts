// The committed web-app samples (samples/webapp, made by samples/generate.ts) through download and
// clean: every fault the generator planted is caught by its rule, in the number it planted
// (samples/webapp/PLANTED.json), and nothing else is removed.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../samples/generate.js';
import type { Planted } from '../samples/faults.js';
import { REPO, runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const WEBAPP = join(REPO, 'samples/webapp');
const planted = JSON.parse(readFileSync(join(WEBAPP, 'PLANTED.json'), 'utf8')) as Planted;

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace();
  runStages(ws.root, [
    { ...STAGES.download, env: { UPLOADS_URL: `file://${WEBAPP}` } },
    STAGES.clean,
  ]);
});
afterAll(() => ws.remove());

describe('the generator', () => {
  it('reproduces the committed sample set byte for byte from its seed', () => {
    const { files, planted: facts } = generate({
      seed: 2018,
      users: 20,
      sessionsPerUser: 15,
      faults: true,
    });
    const committed = readdirSync(WEBAPP)
      .filter((f) => f !== 'PLANTED.json')
      .sort();
    expect(committed).toEqual([...files.keys()].sort());
    for (const name of committed)
      expect(readFileSync(join(WEBAPP, name)).equals(Buffer.from(files.get(name)!)), name).toBe(
        true,
      );
    expect(facts).toEqual(planted);
  });
});

describe('clean on the planted faults', () => {
  it('rejects each planted fault by its rule, in the planted number, and nothing more', async () => {
    const byRule = await ws.query<{ rule: string; n: number }>(
      `SELECT rule, count(*)::INTEGER AS n FROM ${ws.parquet('data/clean/rejects/*.parquet')} GROUP BY rule ORDER BY rule`,
    );
    expect(Object.fromEntries(byRule.map((r) => [r.rule, r.n]))).toEqual(planted.rejected);
    expect(ws.json('data/clean/summary.json').rejected).toEqual(planted.rejected);
  });

  it('quarantines the broken files by name, one reject each', async () => {
    // The retried upload and its original hold the same bytes; the first by path is kept.
    const retry = readdirSync(WEBAPP).find((f) => f.endsWith('.retry.session.json'))!;
    const original = retry.replace('.retry.session.json', '.session.json');
    const [kept, dropped] = [retry, original].sort();
    const rows =
      await ws.query(`SELECT rule, source_file, source_line, detail FROM ${ws.parquet('data/clean/rejects/*.parquet')}
      WHERE rule IN ('truncated_json', 'schema_mismatch', 'duplicate_upload') ORDER BY rule`);
    expect(rows).toEqual([
      {
        rule: 'duplicate_upload',
        source_file: dropped,
        source_line: null,
        detail: `same content as ${kept}`,
      },
      {
        rule: 'schema_mismatch',
        source_file: 'beacon-0001.session.json',
        source_line: null,
        detail: expect.stringContaining("must have required property 'session_id'"),
      },
      {
        rule: 'truncated_json',
        source_file: 'truncated-0001.session.json',
        source_line: null,
        detail: expect.stringContaining('JSON'),
      },
    ]);
  });

  it('tolerates and counts the unknown fields', () => {
    const summary = ws.json<{ by_source: { webapp: { unknown_fields: unknown } } }>(
      'data/clean/summary.json',
    );
    expect(summary.by_source.webapp.unknown_fields).toEqual(planted.unknown_fields);
  });

  it('keeps every generated session and user, and every keystroke whose keyup arrived', () => {
    const summary = ws.json('data/clean/summary.json');
    expect({
      sessions_out: summary.sessions_out,
      users_out: summary.users_out,
      keystrokes_out: summary.keystrokes_out,
    }).toEqual(planted.expected);
  });
});
