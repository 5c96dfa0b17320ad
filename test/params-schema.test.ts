// params.yaml checked against config/params.schema.json before anything runs: the repo's own
// params.yaml and schema, in a workspace whose one stage marks that it ran. Expected positions are
// counted by hand in the params text written here.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, stage, tempWorkspace } from './helpers/workspace.js';

const schema = readFileSync(join(repoRoot, 'config/params.schema.json'), 'utf8');
const repoParams = readFileSync(join(repoRoot, 'params.yaml'), 'utf8');

const PIPELINE = `stages:
  uses:
    cmd: stages/uses.mjs
    params: [clean.max_hold_ms, features.sequence_length]
    outs: [out.txt]
`;

/** A workspace with the repo's schema and `params` as params.yaml. */
function workspace(params: string) {
  return tempWorkspace({
    'pipeline.yaml': PIPELINE,
    'params.yaml': params,
    'config/params.schema.json': schema,
    'stages/uses.mjs': stage`fs.writeFileSync(out('out.txt'), JSON.stringify(__params));`,
  });
}

const PARAMS = (maxHold: string, length: string) =>
  [
    'clean:',
    `  max_hold_ms: ${maxHold}`,
    '  min_keystrokes_per_session: 10',
    '  max_upload_bytes: 16777216',
    '  max_decompressed_bytes: 16777216',
    'features:',
    `  sequence_length: ${length}`,
    '  min_sessions_per_user: 15',
    '',
  ].join('\n');

describe('params.yaml against config/params.schema.json', () => {
  it("the repo's params.yaml passes, names the schema for editors, and builds", async () => {
    expect(repoParams.split('\n')[0]).toBe(
      '# yaml-language-server: $schema=config/params.schema.json',
    );
    const ws = await workspace(repoParams);
    const r = await ws.pipe('build');
    expect(r.code, r.stderr).toBe(0);
    expect(ws.runs()).toEqual(['uses']);
  });

  it('`sequence_length: fifty` stops everything at params.yaml:LINE:COL with the fix (exit 3)', async () => {
    const ws = await workspace(PARAMS('5000', 'fifty'));
    const r = await ws.pipe('build');
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      [
        'params.yaml:7:20: error: param "features.sequence_length" is fifty, but must be a whole number',
        '    7 |   sequence_length: fifty',
        '      |                    ^~~~~',
        '  fix: write a whole number from 1 to 100000, e.g. sequence_length: 50',
        '1 error',
        '',
      ].join('\n'),
    );
    expect(ws.runs()).toEqual([]);
    // The second run validates with the code the first one kept, and says the same.
    expect(readdirSync(ws.path('.pipe/params-validator'))).toHaveLength(1);
    const again = await ws.pipe('status');
    expect(again.code).toBe(3);
    expect(again.stderr).toBe(r.stderr);
  });

  it.each([
    ['"abc"', 'is "abc", but must be a whole number'],
    ['null', 'is empty, but must be a whole number'],
    ['', 'is empty, but must be a whole number'],
    ['1e400', 'is 1e400, but must be <= 3600000'],
    ['.nan', 'is .nan, but must be a whole number'],
    ['0', 'is 0, but must be >= 1'],
    ['2.5', 'is 2.5, but must be a whole number'],
  ])('refuses clean.max_hold_ms: %s', async (value, said) => {
    const ws = await workspace(PARAMS(value, '50'));
    const r = await ws.pipe('build');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      new RegExp(
        `^params\\.yaml:2:\\d+: error: param "clean\\.max_hold_ms" ${said.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`,
      ),
    );
    expect(ws.runs()).toEqual([]);
  });

  it('names an unknown key with a guess, and a missing one', async () => {
    const ws = await workspace(
      PARAMS('5000', '50').replace('min_sessions_per_user', 'min_session_per_user'),
    );
    const r = await ws.pipe('build');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      'params.yaml:6:1: error: param "features.min_sessions_per_user" is missing\n',
    );
    expect(r.stderr).toContain(
      'params.yaml:8:3: error: unknown param "features.min_session_per_user" (not in config/params.schema.json)\n',
    );
    expect(r.stderr).toContain('  fix: did you mean "min_sessions_per_user"?\n');
  });
});
