// download from a file:// folder at more than toy size, and across filesystems: the uploads are
// split over worker threads (so every upload must still land, once, under its own path and hash),
// hard-linked when the folder is on data/raw's filesystem, and copied when it is not. Expected
// sha256 values come from coreutils' sha256sum, a program independent of the stage's node:crypto.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

/** sha256sum's digests of `paths` under `root`, by path. */
function sha256sum(root: string, paths: readonly string[]): Map<string, string> {
  const run = spawnSync('sha256sum', ['--', ...paths], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (run.status !== 0) throw new Error(`sha256sum failed: ${run.stderr}`);
  return new Map(
    run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => [line.slice(66), line.slice(0, 64)]),
  );
}

function writeUploads(root: string, uploads: Record<string, Buffer>): void {
  for (const [path, content] of Object.entries(uploads)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** The manifest `files` download must write for `uploads` (sorted in UTF-16 code-unit order). */
function expectedFiles(root: string, uploads: Record<string, Buffer>) {
  const paths = Object.keys(uploads).sort();
  const digests = sha256sum(root, paths);
  return paths.map((path) => ({ path, size: uploads[path]!.length, sha256: digests.get(path) }));
}

const workspaces: Workspace[] = [];
afterAll(() => {
  for (const ws of workspaces) ws.remove();
});

describe('download from a file:// folder of many uploads', () => {
  it('hard-links every upload into data/raw and lists each with its own size and sha256', () => {
    const ws = tempWorkspace();
    workspaces.push(ws);
    // 2,400 uploads (enough for worker threads: file-mirror.ts starts them from 2,000), sizes from 0 bytes to past the 1 MiB read buffer,
    // names whose code-unit order differs from a locale's ('B' < 'a'), in nested folders.
    const uploads: Record<string, Buffer> = {
      'B.session.json': Buffer.from('{"upper":1}'),
      'a.session.json': Buffer.from(''),
      'big/3_keystrokes.txt': Buffer.alloc(3 * 2 ** 20 + 7, 'k'),
    };
    for (let k = 0; k < 2400; k++)
      uploads[`u${k % 3}/deep/${k}.session.json`] = Buffer.from(
        `{"n":${k}}${'x'.repeat((k * 37) % 5000)}`,
      );
    const root = join(ws.root, 'uploads');
    writeUploads(root, uploads);
    const run = runStage(ws.root, { ...STAGES.download, env: { UPLOADS_URL: 'file://uploads' } });
    expect(run.status, run.stderr).toBe(0);
    expect(ws.json('data/raw/manifest.json')).toEqual({
      source: 'file://uploads',
      count: Object.keys(uploads).length,
      files: expectedFiles(root, uploads),
      deleted: [],
    });
    for (const path of Object.keys(uploads))
      expect(statSync(join(ws.root, 'data/raw', path)).ino, path).toBe(
        statSync(join(root, path)).ino,
      );
    expect(run.metrics).toEqual({
      records: { uploads: 2403, fetched: 2403, reused: 0, deleted: 0 },
    });
  });
});

// A second filesystem for the uploads: /dev/shm is tmpfs on Linux; test workspaces live in tmpdir().
const shm = '/dev/shm';
const otherFilesystem = existsSync(shm) && statSync(shm).dev !== statSync(tmpdir()).dev;

describe.skipIf(!otherFilesystem)('download from a file:// folder on another filesystem', () => {
  it('copies the uploads, then links unchanged ones from the previous data/raw', () => {
    const ws = tempWorkspace();
    workspaces.push(ws);
    const root = mkdtempSync(join(shm, 'pipe-uploads-'));
    try {
      const uploads = {
        'a.session.json': Buffer.from('{"a":1}'),
        'b.session.json': Buffer.from('{"b":1}'),
        'sub/7_keystrokes.txt': Buffer.from('P\n'),
      };
      writeUploads(root, uploads);
      const env = { UPLOADS_URL: `file://${root}` };
      const first = runStage(ws.root, { ...STAGES.download, env });
      expect(first.status, first.stderr).toBe(0);
      expect(ws.json('data/raw/manifest.json')).toEqual({
        source: `file://${root}`,
        count: 3,
        files: expectedFiles(root, uploads),
        deleted: [],
      });
      expect(ws.read('data/raw/sub/7_keystrokes.txt')).toBe('P\n');
      const copied = statSync(join(ws.root, 'data/raw/a.session.json')).ino;
      expect(copied).not.toBe(statSync(join(root, 'a.session.json')).ino);

      // b replaced the way an upload server replaces a file (write aside, rename over).
      writeFileSync(join(root, 'b.tmp'), '{"b":2}');
      renameSync(join(root, 'b.tmp'), join(root, 'b.session.json'));
      const second = runStage(ws.root, { ...STAGES.download, env });
      expect(second.status, second.stderr).toBe(0);
      expect(second.metrics).toEqual({
        records: { uploads: 3, fetched: 1, reused: 2, deleted: 0 },
      });
      expect(statSync(join(ws.root, 'data/raw/a.session.json')).ino).toBe(copied);
      expect(ws.read('data/raw/b.session.json')).toBe('{"b":2}');
      expect(ws.json('data/raw/manifest.json')).toEqual({
        source: `file://${root}`,
        count: 3,
        files: expectedFiles(root, { ...uploads, 'b.session.json': Buffer.from('{"b":2}') }),
        deleted: [],
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
