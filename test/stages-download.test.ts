// download: exact copies of the uploads under UPLOADS_URL, a manifest, and incremental reruns
// (unchanged uploads hard-linked from the previous data/raw, deletions listed, not copied).
import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace, type Workspace } from './helpers/stage-workspace.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const env = { UPLOADS_URL: 'file://uploads' };

let ws: Workspace;
beforeAll(() => {
  ws = tempWorkspace({
    'uploads/a.session.json': '{"a":1}',
    'uploads/b.session.json': '{"b":1}',
    'uploads/sub/7_keystrokes.txt': 'PARTICIPANT_ID\n',
    'uploads/notes.md': 'not an upload',
  });
});
afterAll(() => ws.remove());

describe('download from a file:// folder', () => {
  it('copies the uploads (not other files) and lists them with sha256 and size', () => {
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(ws.json('data/raw/manifest.json')).toEqual({
      source: 'file://uploads',
      count: 3,
      files: [
        { path: 'a.session.json', size: 7, sha256: sha256('{"a":1}') },
        { path: 'b.session.json', size: 7, sha256: sha256('{"b":1}') },
        { path: 'sub/7_keystrokes.txt', size: 15, sha256: sha256('PARTICIPANT_ID\n') },
      ],
      deleted: [],
    });
    expect(ws.read('data/raw/sub/7_keystrokes.txt')).toBe('PARTICIPANT_ID\n');
    expect(existsSync(join(ws.root, 'data/raw/notes.md'))).toBe(false);
    expect(run.metrics).toEqual({ records: { uploads: 3, fetched: 3, reused: 0, deleted: 0 } });
  });

  it('fetches only new or changed uploads, links unchanged ones, and lists deletions', () => {
    const inodeBefore = statSync(join(ws.root, 'data/raw/a.session.json')).ino;
    ws.write('uploads/b.session.json', '{"b":2}');
    ws.write('uploads/d.session.json.gz', 'new');
    rmSync(join(ws.root, 'uploads/sub/7_keystrokes.txt'));
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.metrics).toEqual({ records: { uploads: 3, fetched: 2, reused: 1, deleted: 1 } });
    // The same inode: the unchanged upload was hard-linked from the previous data/raw, not copied.
    expect(statSync(join(ws.root, 'data/raw/a.session.json')).ino).toBe(inodeBefore);
    expect(ws.read('data/raw/b.session.json')).toBe('{"b":2}');
    expect(existsSync(join(ws.root, 'data/raw/sub/7_keystrokes.txt'))).toBe(false);
    expect(ws.json('data/raw/manifest.json').deleted).toEqual(['sub/7_keystrokes.txt']);
  });

  it('writes the same manifest when nothing changed, keeping the deletion on record', () => {
    const before = ws.read('data/raw/manifest.json');
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.metrics).toEqual({ records: { uploads: 3, fetched: 0, reused: 3, deleted: 1 } });
    expect(ws.read('data/raw/manifest.json')).toBe(before);
  });

  it('takes a deleted upload off the deleted list when it comes back', () => {
    ws.write('uploads/sub/7_keystrokes.txt', 'PARTICIPANT_ID\n');
    const run = runStage(ws.root, { ...STAGES.download, env });
    expect(run.status, run.stderr).toBe(0);
    expect(ws.json('data/raw/manifest.json').deleted).toEqual([]);
  });

  it('fails with the fix when UPLOADS_URL is not a supported URL or the folder is missing', () => {
    const bad = runStage(ws.root, {
      ...STAGES.download,
      env: { UPLOADS_URL: 'ftp://example/uploads' },
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe(
      'stage download: UPLOADS_URL=ftp://example/uploads is neither file://<folder> nor gs://<bucket>/<prefix>; set it in config/.env.local\n',
    );
    const missing = runStage(ws.root, {
      ...STAGES.download,
      env: { UPLOADS_URL: 'file://no-such-folder' },
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      'stage download: cannot list uploads at file://no-such-folder: ENOENT',
    );
  });

  // UPLOADS_URL is read by the parser PIPE_REMOTE uses (lib/remote/store-url.ts), so it is refused
  // for the same reasons and in the same words as `remote "<url>" ...` (test/remote-local.test.ts),
  // here naming the setting; before, a bad %-escape crashed the stage with a URIError.
  it.each([
    ['file:///srv/100%', ' has a malformed %-escape (write a literal % as %25)'],
    ['file://', ' has no folder'],
    ['gs://B/x', ': "B" is not a bucket name'],
    [
      'gs://my-bucket/../x',
      `: prefix "../x" has an unsafe segment ".." (letters, digits, '.', '_', '-' only)`,
    ],
  ])('refuses UPLOADS_URL=%s as PIPE_REMOTE would', (url, problem) => {
    const run = runStage(ws.root, { ...STAGES.download, env: { UPLOADS_URL: url } });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `stage download: UPLOADS_URL=${url}${problem}; set it in config/.env.local\n`,
    );
  });
});
