// Validation of names that come from a remote or a manifest. Expectations are written out by
// hand from the rules in lib/remote/remote-path.ts's comments.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  makeVersionId,
  parseKeyPrefix,
  parseManifestPath,
  parseRefName,
  parseSha256,
  parseVersionId,
  remoteKeys,
  sanitiseNamePart,
  versionIdTime,
  workspaceDestination,
  compareVersionIds,
  type VersionId,
} from '../lib/remote/remote-path.js';
import type { Sha256Hex } from '../lib/util/sha256.js';

describe('version IDs', () => {
  it('are the UTC time to the millisecond, then sanitised host and user', () => {
    // 2026-11-26 13:05:09.5 in UTC+02:00 is 11:05:09.500 UTC.
    const when = new Date('2026-11-26T13:05:09.500+02:00');
    expect(makeVersionId(when, 'Lab-PC.example.org', 'Ana María')).toBe(
      '2026-11-26_11-05-09-500_lab-pc-example-org-ana-mar-a',
    );
    expect(makeVersionId(when, '', '***')).toBe('2026-11-26_11-05-09-500_unknown-unknown');
    expect(versionIdTime(makeVersionId(when, 'h', 'u'))).toEqual(when);
  });

  it('order by their time, an ID from before milliseconds counting as .000', () => {
    // Sorted by hand: 09.000 (old form) < 09.001 < 09.500 < 10 (old form).
    const ids = [
      '2026-11-26_11-05-10_host-ann',
      '2026-11-26_11-05-09-500_host-ann',
      '2026-11-26_11-05-09_zz-top',
      '2026-11-26_11-05-09-001_host-ann',
    ] as VersionId[];
    expect([...ids].sort(compareVersionIds)).toEqual([ids[2], ids[3], ids[1], ids[0]]);
    expect(ids.every((id) => parseVersionId(id).ok)).toBe(true);
  });

  it('sanitises to lower-case letters, digits and single inner dashes, at most 40 characters', () => {
    expect(sanitiseNamePart('  --Weird__Name!!  ')).toBe('weird-name');
    expect(sanitiseNamePart(`${'x'.repeat(39)}-yz`)).toBe('x'.repeat(39)); // cut at 40, trailing dash dropped
  });

  it('accepts what makeVersionId makes and rejects anything that could be a path', () => {
    expect(parseVersionId('2026-11-26_11-05-09_host-user')).toEqual({
      ok: true,
      value: '2026-11-26_11-05-09_host-user',
    });
    for (const bad of [
      '',
      '../2026-11-26_11-05-09_h-u',
      '2026-11-26_11-05-09_h/u',
      '2026-11-26_11-05-09_H-U',
      '2026-11-26_11-05-09_',
      '2026-11-26 11-05-09_h-u',
      '2026-11-26_11-05-09_h-u\n',
      '2026-11-26_11-05-09-12_h-u',
      '2026-11-26_11-05-09-1234_h-u',
    ]) {
      expect(parseVersionId(bad).ok).toBe(false);
    }
  });
});

describe('ref names and object names', () => {
  it('accepts tags and refuses separators, dot-dot and leading punctuation', () => {
    for (const good of ['current', 'v1.2.0', 'paper_2026-draft', 'A'])
      expect(parseRefName(good)).toEqual({ ok: true, value: good });
    for (const bad of ['', '.hidden', '-x', 'a/b', 'a\\b', 'a..b', 'a b', 'x'.repeat(64)])
      expect(parseRefName(bad).ok).toBe(false);
  });

  it('accepts only lower-case 64-hex sha256', () => {
    expect(parseSha256('a'.repeat(64)).ok).toBe(true);
    for (const bad of ['A'.repeat(64), 'a'.repeat(63), 'g'.repeat(64), `${'a'.repeat(62)}/.`])
      expect(parseSha256(bad).ok).toBe(false);
  });

  it('puts every key below the prefix', () => {
    const sha = `ab${'c'.repeat(62)}` as Sha256Hex;
    expect(remoteKeys.object('team/pipe', sha)).toBe(`team/pipe/objects/ab/${sha}`);
    expect(remoteKeys.object('', sha)).toBe(`objects/ab/${sha}`);
    expect(remoteKeys.ref('p', 'current' as never)).toBe('p/refs/current.json');
  });

  it('normalises outer slashes of a prefix and refuses unsafe segments', () => {
    expect(parseKeyPrefix('/team/pipe/')).toEqual({ ok: true, value: 'team/pipe' });
    expect(parseKeyPrefix('')).toEqual({ ok: true, value: '' });
    for (const bad of ['a/../b', 'a//b', './a', 'a/b c', 'a/%2e%2e'])
      expect(parseKeyPrefix(bad).ok).toBe(false);
  });
});

describe('manifest paths', () => {
  it('accepts workspace-relative POSIX paths', () => {
    expect(parseManifestPath('data/clean/keystrokes.parquet')).toEqual({
      ok: true,
      value: 'data/clean/keystrokes.parquet',
    });
    expect(parseManifestPath('reports/..weird name.txt').ok).toBe(true); // '..' inside a name is just a name
  });

  it.each([
    ['', 'empty path'],
    ['../outside', 'path "../outside" has a ".." segment'],
    ['data/../../etc/passwd', 'path "data/../../etc/passwd" has a ".." segment'],
    ['/etc/passwd', 'path "/etc/passwd" is absolute'],
    ['C:/Windows/x', 'path "C:/Windows/x" is absolute'],
    ['data\\..\\x', 'path "data\\..\\x" contains a backslash'],
    ['data/a\0b', 'path "data/a\\u0000b" contains a NUL byte'],
    ['data//x', 'path "data//x" has a "//" segment'],
    ['./data/x', 'path "./data/x" has a "." segment'],
    ['.git/hooks/pre-commit', 'path ".git/hooks/pre-commit" is inside .git/'],
    ['.pipe/state', 'path ".pipe/state" is inside .pipe/'],
  ])('refuses %j', (raw, reason) => {
    expect(parseManifestPath(raw)).toEqual({ ok: false, error: reason });
  });
});

describe('workspaceDestination', () => {
  it('refuses to write through a symlinked folder, allows real and missing folders', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const workspace = join(root, 'ws');
    await mkdir(join(workspace, 'data', 'real'), { recursive: true });
    await mkdir(join(root, 'outside'));
    await symlink(join(root, 'outside'), join(workspace, 'data', 'link'));
    await writeFile(join(workspace, 'data', 'file'), 'x');
    expect(await workspaceDestination(workspace, 'data/real/a.parquet')).toEqual({
      ok: true,
      value: join(workspace, 'data/real/a.parquet'),
    });
    expect(await workspaceDestination(workspace, 'data/new/deeper/a.parquet')).toEqual({
      ok: true,
      value: join(workspace, 'data/new/deeper/a.parquet'),
    });
    expect(await workspaceDestination(workspace, 'data/link/a.parquet')).toEqual({
      ok: false,
      error: `path "data/link/a.parquet" goes through the symlink ${join(workspace, 'data/link')}`,
    });
    expect(await workspaceDestination(workspace, 'data/file/a')).toEqual({
      ok: false,
      error: `path "data/file/a" goes through ${join(workspace, 'data/file')}, which is not a folder`,
    });
    expect((await workspaceDestination(workspace, '../ws2/x')).ok).toBe(false);
    await rm(root, { recursive: true });
  });
});

describe('describeRemoteError', () => {
  it('says what failed and what to do, for every kind', async () => {
    const { describeRemoteError } = await import('../lib/remote/remote.js');
    const v = '2026-11-26_11-05-09_host-ana' as never;
    expect(describeRemoteError({ kind: 'not-found', what: 'version x' })).toBe(
      'version x is not on the remote',
    );
    expect(
      describeRemoteError({
        kind: 'conflict',
        ref: 'current' as never,
        current: { versionId: v, generation: '7' },
      }),
    ).toBe(
      'ref current was moved by someone else meanwhile (now 2026-11-26_11-05-09_host-ana); re-read it and try again',
    );
    expect(describeRemoteError({ kind: 'conflict', ref: 'current' as never, current: null })).toBe(
      'ref current was deleted by someone else meanwhile; re-read it and try again',
    );
    expect(describeRemoteError({ kind: 'exists', what: 'version y' })).toBe(
      'version y already exists on the remote with different content; it is never overwritten',
    );
    expect(
      describeRemoteError({
        kind: 'corrupt',
        what: 'object ab',
        expected: 'sha256 ab',
        actual: 'sha256 cd',
      }),
    ).toBe('object ab is corrupt: expected sha256 ab, got sha256 cd; nothing was written');
    expect(
      describeRemoteError({ kind: 'unreachable', remote: 'gs://b', detail: 'ECONNREFUSED' }),
    ).toBe('remote gs://b is unreachable: ECONNREFUSED');
    expect(describeRemoteError({ kind: 'denied', remote: 'gs://b', detail: '403' })).toBe(
      'remote gs://b refused access: 403',
    );
  });
});
