// The stage API reads pipeline.lock as docs/lock-file.md documents it, without the tool's reader
// (lib/build/lockfile.ts would put the lock writer into every stage's code, see
// lib/stage-api/lock-fingerprints.ts). Here the two readers are held to the same verdict: every
// lock the tool refuses, the stage API refuses with the tool's words, and every lock the tool
// reads gives the same fingerprints. The expected side is always lib/build/lockfile.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLock } from '../lib/build/lockfile.js';
import { readLockFingerprints } from '../lib/stage-api/index.js';
import { REPO } from './helpers/run-stage.js';

const ws = mkdtempSync(join(tmpdir(), 'pipe-lock-fp-'));
afterAll(() => rmSync(ws, { recursive: true, force: true }));

const sha = (c: string) => c.repeat(64);
const entry = (extra: Record<string, unknown> = {}) => ({
  fingerprint: sha('a'),
  cmd: {},
  deps: { 'data/in.txt': { sha256: sha('b'), size: 3 } },
  params: {},
  env: {},
  outs: { 'data/out': { sha256: sha('c'), size: 9, files: 2 } },
  ...extra,
});
const lockText = (stages: unknown, version: unknown = 1) =>
  JSON.stringify({ version, stages }, null, 2);

/** One lock per rule of the documented format, each broken in exactly that way. */
const BROKEN: Record<string, string> = {
  'not JSON': '{"version": 1,',
  'an array': '[]',
  'a newer format': lockText({}, 2),
  'an unknown format': lockText({}, '1'),
  'stages not an object': lockText([]),
  'an entry not an object': lockText({ clean: 3 }),
  'a short fingerprint': lockText({ clean: entry({ fingerprint: 'f00d' }) }),
  'cmd missing': lockText({ clean: { ...entry(), cmd: undefined } }),
  'env an array': lockText({ clean: entry({ env: [] }) }),
  'packages a list': lockText({ clean: entry({ packages: ['ajv'] }) }),
  'a package version a number': lockText({ clean: entry({ packages: { ajv: 8 } }) }),
  'a dep without size': lockText({ clean: entry({ deps: { x: { sha256: sha('b') } } }) }),
  'an out with a bad sha': lockText({ clean: entry({ outs: { x: { sha256: 'zz', size: 1 } } }) }),
  'an out whose files is text': lockText({
    clean: entry({ outs: { x: { sha256: sha('c'), size: 1, files: 'two' } } }),
  }),
};

function readBoth(text: string) {
  writeFileSync(join(ws, 'pipeline.lock'), text);
  return { tool: parseLock(text), api: readLockFingerprints(ws, 'report') };
}

describe("the stage API's lock reader", () => {
  it.each(Object.entries(BROKEN))("refuses %s with the tool's reason", (_what, text) => {
    const { tool, api } = readBoth(text);
    if (tool.ok) throw new Error('the tool reads this lock; the case is not broken');
    expect(api).toEqual({ status: 'unreadable', reason: tool.message });
  });

  it("reads the repository's pipeline.lock and a lock with every optional field as the tool does", () => {
    const full = lockText({
      report: entry({ fingerprint: sha('e') }),
      clean: entry({
        packages: { ajv: '8.20.0', gone: null },
        metrics: { records: { keystrokes: 1 } },
        source: { version: '2026-11-26_12-00-00_host-ana', pushedBy: 'ana' },
      }),
    });
    for (const text of [readFileSync(join(REPO, 'pipeline.lock'), 'utf8'), full]) {
      const { tool, api } = readBoth(text);
      if (!tool.ok) throw new Error(tool.message);
      const expected = Object.entries(tool.value.stages)
        .filter(([name]) => name !== 'report')
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, e]) => [name, e.fingerprint]);
      expect(api.status === 'read' && Object.entries(api.fingerprints)).toEqual(expected);
    }
  });
});
