// The pure core of freshness, in process: fingerprint, manifest hash, stale reasons, the lock
// file's format, and the worker pool's bound. Golden hashes were computed independently with
// coreutils, e.g.  printf 'pipe-env\0secret' | sha256sum  (the command is next to each value).
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  computeFingerprint,
  envValueHash,
  type Fingerprint,
} from '../lib/build/fingerprint.js';
import { manifestHash } from '../lib/observe/hash.js';
import type { PathHash } from '../lib/observe/types.js';
import type { Sha256Hex } from '../lib/util/sha256.js';
import { formatLock, parseLock, type LockEntry } from '../lib/build/lockfile.js';
import { staleReasons, withUpstreamReasons, type Observed } from '../lib/build/plan.js';
import { mapConcurrent, WorkerPool } from '../lib/util/worker-pool.js';

const A = 'a'.repeat(64) as Sha256Hex;
const B = 'b'.repeat(64) as Sha256Hex;
const C = 'c'.repeat(64) as Sha256Hex;
const D = 'd'.repeat(64) as Sha256Hex;

describe('fingerprint', () => {
  it('hashes env values with a prefix, never raw', () => {
    // printf 'pipe-env\0secret' | sha256sum
    expect(envValueHash('secret')).toBe(
      '2c6080c1e0cdccaec0afba29fa73c43e8ad48f6ee94dcfb37f1c9104f58495f4',
    );
    expect(envValueHash(undefined)).toBeNull();
  });

  it('is sha256 of canonical JSON: keys sorted at every level, deps/outs sorted, array params kept in order', () => {
    const fp = computeFingerprint({
      definition: { cmd: 's.mjs', deps: ['b', 'a'], outs: ['o'] },
      codeHashes: { 's.mjs': A },
      packages: { zx: '8.8.5', '@scope/p': null },
      depHashes: { b: null, a: B },
      params: { k: { y: [2, 1], x: 1 } },
      envHashes: { E: null },
    });
    // printf '{"code":{"s.mjs":"aaa…"},"definition":{"cmd":"s.mjs","deps":["a","b"],"outs":["o"]},
    //   "deps":{"a":"bbb…","b":null},"env":{"E":null},"format":2,
    //   "packages":{"@scope/p":null,"zx":"8.8.5"},"params":{"k":{"x":1,"y":[2,1]}}}' | sha256sum
    expect(fp).toBe('9604bb98de195a8dc0c0be0b65ce9dd09d11787907660aab6314d0c82a9a8369');
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });

  it('changes when a param value changes, not when params are listed in another order', () => {
    const base = {
      definition: { cmd: 's', deps: [], outs: ['o'] },
      codeHashes: {},
      packages: {},
      depHashes: {},
      envHashes: {},
    };
    const one = computeFingerprint({ ...base, params: { a: 1, b: 2 } });
    expect(computeFingerprint({ ...base, params: { b: 2, a: 1 } })).toBe(one);
    expect(computeFingerprint({ ...base, params: { a: 1, b: 3 } })).not.toBe(one);
  });
});

describe('manifest hash', () => {
  it('is sha256 over sorted "path\\tsha\\tsize" lines relative to the folder', () => {
    const files = [
      { path: 'data/sub/a.txt', sha256: D, size: 5 },
      { path: 'data/b.txt', sha256: C, size: 3 },
    ];
    // printf 'b.txt\tccc…\t3\nsub/a.txt\tddd…\t5\n' | sha256sum
    expect(manifestHash(files, 'data')).toBe(
      '5b6717b2912c0f08b0967eb40c7913e5d39080ea2d61be411d4a23f16a578ce4',
    );
  });
});

describe('stale reasons', () => {
  const entry: LockEntry = {
    fingerprint: 'f'.repeat(64) as Fingerprint,
    cmd: { 'stages/s.ts': A },
    packages: { zx: '8.8.5', gone: '1.0.0' },
    deps: { 'data/in': { sha256: B, size: 8, files: 2 } },
    params: { 'p.n': 1 },
    env: { TOKEN: A },
    outs: { 'out/x': { sha256: C, size: 1 } },
  };
  const now = (over: Partial<Observed>): Observed => ({
    fingerprint: entry.fingerprint,
    cmd: entry.cmd,
    packages: entry.packages!,
    deps: { 'data/in': { kind: 'dir', path: 'data/in', sha256: B, size: 8, files: [] } },
    params: entry.params,
    env: entry.env,
    outs: { 'out/x': { kind: 'file', path: 'out/x', sha256: C, size: 1 } },
    ...over,
  });
  const noManifests = (): undefined => undefined;

  it('none when everything matches', () => {
    expect(staleReasons(entry, now({}), noManifests)).toEqual([]);
  });

  it('lists every difference, cheap ones first', () => {
    const depNow: PathHash = { kind: 'dir', path: 'data/in', sha256: D, size: 9, files: [] };
    const reasons = staleReasons(
      entry,
      now({
        fingerprint: '0'.repeat(64) as Fingerprint,
        cmd: { 'stages/s.ts': B, 'stages/s.sql': C },
        packages: { zx: '8.9.0', added: '2.0.0', gone: null },
        params: { 'p.n': 2 },
        env: { TOKEN: null },
        deps: { 'data/in': depNow },
        outs: { 'out/x': { kind: 'missing', path: 'out/x' } },
      }),
      noManifests,
    );
    expect(reasons).toEqual([
      { kind: 'code-changed', path: 'stages/s.sql' },
      { kind: 'code-changed', path: 'stages/s.ts' },
      { kind: 'package-changed', name: 'added', to: '2.0.0' },
      { kind: 'package-changed', name: 'gone', from: '1.0.0' },
      { kind: 'package-changed', name: 'zx', from: '8.8.5', to: '8.9.0' },
      { kind: 'param-changed', key: 'p.n', from: 1, to: 2 },
      { kind: 'env-changed', name: 'TOKEN' },
      { kind: 'dep-modified', path: 'data/in' },
      { kind: 'out-missing', path: 'out/x' },
    ]);
  });

  it('names files inside a folder dep when the old manifest is known', () => {
    const old = [
      { path: 'data/in/keep', sha256: A, size: 4 },
      { path: 'data/in/gone', sha256: A, size: 4 },
    ];
    const depNow: PathHash = {
      kind: 'dir',
      path: 'data/in',
      sha256: D,
      size: 8,
      files: [
        { path: 'data/in/keep', sha256: B, size: 4 },
        { path: 'data/in/new', sha256: A, size: 4 },
      ],
    };
    const reasons = staleReasons(
      entry,
      now({ fingerprint: '0'.repeat(64) as Fingerprint, deps: { 'data/in': depNow } }),
      (sha) => (sha === B ? old : undefined),
    );
    expect(reasons).toEqual([
      { kind: 'dep-deleted', path: 'data/in', file: 'data/in/gone' },
      { kind: 'dep-modified', path: 'data/in', file: 'data/in/keep' },
      { kind: 'dep-added', path: 'data/in', file: 'data/in/new' },
    ]);
  });

  it('never built without an entry; upstream-stale flows down the graph', () => {
    expect(staleReasons(undefined, now({}), noManifests)).toEqual([{ kind: 'never-built' }]);
    //   a ──▶ b ──▶ c        d (alone)
    const up: Record<string, string[]> = { a: [], b: ['a'], c: ['b'], d: [] };
    const all = withUpstreamReasons(
      ['a', 'b', 'c', 'd'],
      (s) => up[s]!,
      new Map([['a', [{ kind: 'never-built' as const }]]]),
    );
    expect(Object.fromEntries(all)).toEqual({
      a: [{ kind: 'never-built' }],
      b: [{ kind: 'upstream-stale', stage: 'a' }],
      c: [{ kind: 'upstream-stale', stage: 'b' }],
      d: [],
    });
  });
});

describe('lock file format', () => {
  it('is sorted, indented JSON with a trailing newline, and reads back', () => {
    const text = formatLock({
      version: 1,
      stages: {
        z: {
          fingerprint: A as string as Fingerprint,
          outs: {},
          deps: {},
          env: {},
          params: { b: 1, a: 2 },
          cmd: {},
        },
      },
    });
    expect(text).toBe(
      `{\n  "stages": {\n    "z": {\n      "cmd": {},\n      "deps": {},\n      "env": {},\n      "fingerprint": "${A}",\n      "outs": {},\n      "params": {\n        "a": 2,\n        "b": 1\n      }\n    }\n  },\n  "version": 1\n}\n`,
    );
    expect(parseLock(text)).toEqual({ ok: true, value: JSON.parse(text) as unknown });
  });

  it('refuses damaged or newer files with the fix', () => {
    expect(parseLock('{"version": 1, "stages": {').ok).toBe(false);
    expect(parseLock('{"version": 2, "stages": {}}')).toEqual({
      ok: false,
      message:
        'pipeline.lock: format version 2 was written by a newer pipe (this one reads 1); upgrade pipe; restore it with `git checkout pipeline.lock`, or delete it to rebuild every stage',
    });
    expect(parseLock('{"version": 1, "stages": {"s": {"fingerprint": "nope"}}}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('stages.s.fingerprint must be a sha256') as string,
    });
    const entry = `"fingerprint": "${A}", "cmd": {}, "deps": {}, "params": {}, "env": {}, "outs": {}`;
    expect(
      parseLock(`{"version": 1, "stages": {"s": {${entry}, "packages": {"zx": 8}}}}`),
    ).toMatchObject({
      ok: false,
      message: expect.stringContaining(
        'stages.s.packages["zx"] must be a version string or null',
      ) as string,
    });
    expect(
      parseLock(
        `{"version": 1, "stages": {"s": {${entry}, "packages": {"zx": "8.8.5", "y": null}}}}`,
      ).ok,
    ).toBe(true);
  });
});

describe('worker pool', () => {
  it('never runs more than its limit at once', async () => {
    const pool = new WorkerPool(2);
    let running = 0;
    let peak = 0;
    const task = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
    };
    await Promise.all(Array.from({ length: 7 }, () => pool.run(task)));
    expect(peak).toBe(2);
    let inFlight = 0;
    let maxInFlight = 0;
    const doubled = await mapConcurrent([1, 2, 3, 4, 5], 3, async (n) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return n * 2;
    });
    expect(doubled).toEqual([2, 4, 6, 8, 10]);
    expect(maxInFlight).toBe(3);
  });
});
