// params.yaml lookups, in process, on files written inline.
import { afterEach, describe, expect, it } from 'vitest';
import { loadParams, paramKeys, paramValue } from '../lib/pipeline/params-file.js';
import { lines, removeTempWorkspaces, tempWorkspace } from './support/workspace-rig.js';

afterEach(removeTempWorkspaces);

describe('params.yaml (in process)', () => {
  it('looks up dotted keys, keys that hold dots, and says undefined for missing ones', async () => {
    const ws = tempWorkspace({
      'params.yaml': lines(
        'clean:',
        '  max_hold_ms: 5000',
        '  "rules.v2": {strict: true}',
        'features:',
        '  m: 50',
        '  empty: null',
      ),
    });
    const params = await loadParams(ws.dir);
    if (!params.ok) throw new Error('params.yaml should parse');
    expect(paramValue(params.value, 'clean.max_hold_ms')).toBe(5000);
    expect(paramValue(params.value, 'clean.rules.v2.strict')).toBe(true);
    expect(paramValue(params.value, 'features')).toEqual({ m: 50, empty: null });
    expect(paramValue(params.value, 'features.empty')).toBeNull(); // declared, value null: present
    expect(paramValue(params.value, 'features.n')).toBeUndefined();
    expect(paramValue(params.value, 'clean.max_hold_ms.deeper')).toBeUndefined();
    expect(paramKeys(params.value)).toEqual([
      'clean',
      'clean.max_hold_ms',
      'clean.rules.v2',
      'clean.rules.v2.strict',
      'features',
      'features.m',
      'features.empty',
    ]);
  });

  it('a workspace without params.yaml has no params, and that is not an error', async () => {
    const params = await loadParams(tempWorkspace({}).dir);
    expect(params).toEqual({ ok: true, value: { file: undefined, values: {} } });
  });
});
