// A big folder's listing (lib/observe/dir-entries.ts, through Node's readdir binding) gives the
// names and types readdirSync's Dirents give, on every kind of entry; a folder it cannot list fails
// the same way; the binding is taken only where it checks out. And the parts a folder is cut into
// (folder-parts.ts) are where the rule puts them: after each key whose FNV-1a hash of the whole
// key is 0 modulo 64. The expected values come from readdirSync and from FNV-1a written out here,
// over the joined key strings, not from the code under test.
import { spawnSync } from 'node:child_process';
import {
  type Dirent,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it, onTestFinished } from 'vitest';
import { dirEntries, dirEntriesAreFast } from '../lib/observe/dir-entries.js';
import { folderParts } from '../lib/observe/folder-parts.js';

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipe-dir-entries-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const kind = (d: Dirent) =>
  d.isFile() ? 'file' : d.isDirectory() ? 'folder' : d.isSymbolicLink() ? 'symlink' : 'other';

it('gives readdirSync’s names and types for files, folders, links and a fifo', () => {
  const dir = tempDir();
  for (const name of ['a.json', 'B.json', 'é.json', '日本.txt', ' space', 'x\ty', '.hidden'])
    writeFileSync(join(dir, name), name);
  mkdirSync(join(dir, 'sub'));
  symlinkSync('a.json', join(dir, 'to-file'));
  symlinkSync('sub', join(dir, 'to-folder'));
  symlinkSync('nowhere', join(dir, 'dangling'));
  const fifo = spawnSync('mkfifo', [join(dir, 'pipe')]);
  const got = dirEntries()(dir);
  const expected = readdirSync(dir, { withFileTypes: true });
  expect(got.names).toEqual(expected.map((d) => d.name));
  expect(got.kinds).toEqual(expected.map(kind));
  expect(got.kinds).toContain('symlink');
  if (fifo.status === 0) expect(got.kinds).toContain('other');
});

it('fails on a missing folder or a file with the error readdirSync throws', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), '');
  for (const path of [join(dir, 'missing'), join(dir, 'file')]) {
    let expected: NodeJS.ErrnoException | undefined;
    try {
      readdirSync(path, { withFileTypes: true });
    } catch (error) {
      expected = error as NodeJS.ErrnoException;
    }
    expect(expected, path).toBeDefined();
    expect(() => dirEntries()(path), path).toThrow(
      expect.objectContaining({ code: expected!.code, syscall: 'scandir' }),
    );
  }
});

it('takes the binding on this Node, and never with --pending-deprecation', () => {
  expect(dirEntriesAreFast()).toBe(true);
  const compiled = fileURLToPath(new URL('../dist/lib/observe/dir-entries.js', import.meta.url));
  const script = `import(${JSON.stringify(compiled)}).then((m) => console.log(JSON.stringify([m.dirEntriesAreFast(), m.dirEntries()(${JSON.stringify(join(compiled, '..'))}).names.includes('dir-entries.js')])))`;
  const run = spawnSync(process.execPath, ['--pending-deprecation', '-e', script], {
    encoding: 'utf8',
  });
  expect(run.stderr).toBe('');
  expect(JSON.parse(run.stdout)).toEqual([false, true]);
});

/** 32-bit FNV-1a over UTF-16 code units, as folder-parts.ts documents it. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

it('cuts a folder opened up two levels into parts after each key hashing to 0 modulo 64', () => {
  // samples/ holds one folder, webapp/, holding 10 uploads and two folders of 700: too few keys
  // twice over (under 256), so every key is `webapp/<name>` or `webapp/<folder>/<name>`, hashed
  // whole by the rule.
  const dir = tempDir();
  const keys: string[] = [];
  for (let i = 0; i < 10; i++) keys.push(`webapp/f${i}.json`);
  for (const folder of ['a', 'b'])
    for (let i = 0; i < 700; i++) keys.push(`webapp/${folder}/u${(i * 7919) % 100003}-é.json`);
  for (const key of keys) {
    mkdirSync(join(dir, 'samples', key, '..'), { recursive: true });
    writeFileSync(join(dir, 'samples', key), '');
  }
  const expected: string[][] = [[]];
  for (const key of keys.sort()) {
    expected.at(-1)!.push(key);
    if (fnv1a(key) % 64 === 0) expected.push([]);
  }
  if (expected.at(-1)!.length === 0) expected.pop();
  expect(expected.length).toBeGreaterThan(10);
  expect(folderParts(dir, 'samples')).toEqual(expected);
});
