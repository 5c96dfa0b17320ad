// The version manifest read back from a remote is untrusted: parseManifest must refuse anything
// pull would act on wrongly. In-process, pure. The good manifest is written out by hand here.
import { describe, expect, it } from 'vitest';
import {
  contentDigest,
  formatManifest,
  parseManifest,
  type VersionManifest,
} from '../lib/versions/manifest.js';
import type { VersionId } from '../lib/remote/remote-path.js';

const ID = '2026-11-26_12-00-00_host-ann' as VersionId;
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function good(): VersionManifest {
  return JSON.parse(
    JSON.stringify({
      format: 1,
      id: ID,
      pushedBy: 'ann@host',
      pushedAt: '2026-11-26T12:00:00.000Z',
      notes: 'n',
      stages: {
        gen: {
          lock: {
            fingerprint: SHA_A,
            cmd: {},
            deps: {},
            params: {},
            env: {},
            outs: { 'out/a.txt': { sha256: SHA_B, size: 3 } },
          },
          files: [{ path: 'out/a.txt', sha256: SHA_B, size: 3 }],
        },
      },
    }),
  ) as VersionManifest;
}

// biome-ignore lint/suspicious/noExplicitAny: the tests corrupt arbitrary fields of a manifest
type Loose = any;
const mutate = (f: (m: Loose) => void): string => {
  const m = good() as Loose;
  f(m);
  return JSON.stringify(m);
};

describe('parseManifest', () => {
  it('accepts a well-formed manifest and round-trips it', () => {
    expect(parseManifest(ID, formatManifest(good()))).toEqual({ ok: true, value: good() });
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['a newer format', mutate((m) => (m.format = 2)), /format 2 is not 1/],
    ['another ID', mutate((m) => (m.id = '2026-11-26_12-00-01_host-ann')), /names itself/],
    [
      'a path with ..',
      mutate((m) => (m.stages.gen.files[0].path = 'out/../../x')),
      /has a "\.\." segment/,
    ],
    [
      'an absolute path',
      mutate((m) => (m.stages.gen.files[0].path = '/etc/passwd')),
      /is absolute/,
    ],
    [
      'a path into .git',
      mutate((m) => (m.stages.gen.files[0].path = '.git/hooks/post-checkout')),
      /inside \.git/,
    ],
    [
      'an out path with ..',
      mutate((m) => (m.stages.gen.lock.outs = { '../x': { sha256: SHA_B, size: 3 } })),
      /out: path "\.\.\/x"/,
    ],
    [
      'a bad sha',
      mutate((m) => (m.stages.gen.files[0].sha256 = 'XYZ')),
      /not a lower-case hex sha256/,
    ],
    [
      'a negative size',
      mutate((m) => (m.stages.gen.files[0].size = -1)),
      /size must be a whole number/,
    ],
    [
      'a bad lock entry',
      mutate((m) => (m.stages.gen.lock.fingerprint = 'nope')),
      /fingerprint must be a sha256/,
    ],
  ])('refuses %s', (_what, text, reason) => {
    const parsed = parseManifest(ID, text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });
});

describe('contentDigest', () => {
  it('changes with the files, not with who pushed or the notes', () => {
    const a = good();
    const b = { ...good(), pushedBy: 'bob@elsewhere', notes: 'other' };
    expect(contentDigest(a.stages)).toBe(contentDigest(b.stages));
    const c = JSON.parse(mutate((m) => (m.stages.gen.files[0].sha256 = SHA_A))) as VersionManifest;
    expect(contentDigest(c.stages)).not.toBe(contentDigest(a.stages));
  });
});
