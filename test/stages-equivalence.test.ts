// The same typing, once as Aalto rows and once as web-app uploads, gives identical TypeNet
// features. The test builds the uploads from participant 102's real file (samples/aalto): each
// row becomes a keydown at PRESS_TIME and a keyup at RELEASE_TIME of a key whose `code` stands
// for its KEYCODE; each section becomes one session, with integer times so no rounding enters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runStages, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const text = readFileSync(join(REPO, 'samples/aalto/102_keystrokes.txt'), 'latin1');

function toUploads(aalto: string): Record<string, string> {
  const sections = new Map<
    string,
    { press: number; release: number; letter: string; keycode: number; order: number }[]
  >();
  aalto
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .forEach((line, order) => {
      const f = line.split('\t');
      const list = sections.get(f[1]!) ?? [];
      list.push({
        press: Number(f[5]),
        release: Number(f[6]),
        letter: f[7]!,
        keycode: Number(f[8]),
        order,
      });
      sections.set(f[1]!, list);
    });
  const uploads: Record<string, string> = {};
  for (const [section, rows] of sections) {
    const origin = Math.min(...rows.map((r) => r.press)) - 1000;
    const events = rows.flatMap((r) => {
      const base = {
        key: r.letter,
        code: `Key${r.keycode}`,
        keyCode: r.keycode,
        repeat: false,
        composing: false,
      };
      return [
        { t: r.press - origin, type: 'down', ...base, order: r.order },
        { t: r.release - origin, type: 'up', ...base, order: r.order },
      ];
    });
    // Browser order: by time; at the same instant a key's keyup comes before its next keydown.
    events.sort(
      (a, b) => a.t - b.t || (a.type === b.type ? a.order - b.order : a.type === 'up' ? -1 : 1),
    );
    uploads[`uploads/webapp/${section}.session.json`] = JSON.stringify({
      session_id: section,
      user_id: '102',
      prompt: '',
      text: '',
      time_origin: origin,
      client: {
        user_agent: 'converted from Aalto rows',
        device: 'desktop',
        keyboard_layout: 'en-US',
      },
      events: events.map(({ order: _order, ...e }) => e),
    });
  }
  return uploads;
}

let asAalto: Workspace;
let asWebapp: Workspace;
beforeAll(() => {
  asAalto = tempWorkspace({ 'uploads/aalto/102_keystrokes.txt': text });
  asWebapp = tempWorkspace(toUploads(text));
  for (const ws of [asAalto, asWebapp]) {
    runStages(ws.root, [
      { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } },
      STAGES.clean,
      STAGES.keypairs,
      STAGES.features,
    ]);
  }
});
afterAll(() => {
  asAalto.remove();
  asWebapp.remove();
});

describe('one typing, two upload formats', () => {
  it('cleans to the same keystrokes', async () => {
    const sql = (ws: Workspace) =>
      `SELECT user_id, session_id, seq, press_ms, release_ms, keycode FROM ${ws.parquet('data/clean/keystrokes/*.parquet')} ORDER BY ALL`;
    const [a, w] = [await asAalto.query(sql(asAalto)), await asWebapp.query(sql(asWebapp))];
    expect(a.length).toBe(text.split('\n').length - 2); // every data line of 102 (a clean participant) is kept
    expect(w).toEqual(a);
  });

  it('gives identical TypeNet sequences and user summaries', async () => {
    const sql = (ws: Workspace) =>
      `SELECT * EXCLUDE (source) FROM ${ws.parquet('data/features/sequences/*.parquet')} ORDER BY user_id, session_id, position`;
    const [a, w] = [await asAalto.query(sql(asAalto)), await asWebapp.query(sql(asWebapp))];
    expect(a.length).toBe(15 * 50);
    expect(w).toEqual(a);
    expect(asWebapp.read('data/features/summary.json')).toBe(
      asAalto.read('data/features/summary.json'),
    );
  });
});
