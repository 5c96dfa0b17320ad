// A dep folder of WORKER_WALK_MIN files takes the big-folder path (lib/observe/hash-folder.ts): walked and
// statted on worker threads, and, once its stamps are recorded in .pipe/folders, judged fresh from
// one digest of all stamps without looking files up one by one. These tests prove that path still
// sees every kind of change, and that a stage recording the folder gets its full file list.
//
//   data/many/f00000.txt .. f19999.txt (20,000 files) ──▶ count ──▶ out/count.txt
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_WALK_MIN } from '../lib/observe/types.js';
import { pipeBin, stage, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const N = WORKER_WALK_MIN;
/** The one file the nested-folder case edits: any file but the first or last. */
const EDITED = Math.floor(N / 2) + 345;
const name = (i: number): string => `data/many/f${String(i).padStart(5, '0')}.txt`;

interface StatusJson {
  stale: string[];
  stages: { name: string; reasons: { kind: string; path?: string; file?: string }[] }[];
  hashing: { statted: number; hashed: number };
}

async function built(): Promise<TempWorkspace> {
  const files: Record<string, string> = {
    'pipeline.yaml':
      'stages:\n  count:\n    cmd: stages/count.mjs\n    deps: [data/many]\n    outs: [out/count.txt]\n',
    // Sums the digits of every file: a change to any one file changes the out.
    'stages/count.mjs': stage`
      let sum = 0;
      for (const n of fs.readdirSync('data/many')) sum += Number(fs.readFileSync('data/many/' + n, 'utf8'));
      fs.writeFileSync(out('out/count.txt'), String(sum) + '\\n');`,
  };
  const ws = await tempWorkspace(files);
  mkdirSync(ws.path('data/many'), { recursive: true });
  for (let i = 0; i < N; i++) writeFileSync(ws.path(name(i)), '1\n');
  // Old enough to be trusted (the racy-file rule), so the folder's entry is recorded.
  const past = Date.now() / 1000 - 60;
  for (let i = 0; i < N; i++) utimesSync(ws.path(name(i)), past, past);
  ws.age('stages/count.mjs', 60);
  expect((await ws.pipe('build')).code).toBe(0);
  expect(ws.read('out/count.txt')).toBe(`${N}\n`); // N files holding 1
  ws.age('out/count.txt', 60);
  ws.clearRuns();
  return ws;
}

const status = async (ws: TempWorkspace): Promise<StatusJson> =>
  JSON.parse((await ws.pipe('status', '--json')).stdout) as StatusJson;

describe('a big dep folder (statted on worker threads, judged by its stamps digest)', () => {
  it('is fresh without reading a file, and a same-size edit, an addition and a deletion are each seen', async () => {
    const ws = await built();
    await status(ws); // records every hash with trusted (old) stamps
    const quiet = await status(ws);
    expect(quiet.stale).toEqual([]);
    expect(quiet.hashing.hashed).toBe(0);
    expect(readFileSync(ws.path('.pipe/folders'), 'utf8')).toContain(`data/many\t`);

    // Same size, new mtime: named as the one modified file.
    writeFileSync(ws.path(name(123)), '5\n');
    expect((await status(ws)).stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(123) },
    ]);
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/count.txt')).toBe(`${N + 4}\n`);

    writeFileSync(ws.path('data/many/zz.txt'), '10\n');
    rmSync(ws.path(name(0)));
    expect((await status(ws)).stages[0]!.reasons).toEqual([
      { kind: 'dep-deleted', path: 'data/many', file: name(0) },
      { kind: 'dep-added', path: 'data/many', file: 'data/many/zz.txt' },
    ]);
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/count.txt')).toBe(`${N + 4 - 1 + 10}\n`);
  });

  it('sees a file replaced with the same size and mtime (a new inode), two files trading names, and a rename in place', async () => {
    const ws = await built();
    await status(ws);
    expect((await status(ws)).stale).toEqual([]);
    // Another file put in the place of file i (cp -p, a sync tool): size and mtime as before.
    const replace = (i: number, text: string): void => {
      const old = statSync(ws.path(name(i)));
      writeFileSync(ws.path('data/other.txt'), text);
      utimesSync(ws.path('data/other.txt'), old.atime, old.mtime);
      renameSync(ws.path('data/other.txt'), ws.path(name(i)));
      const now = statSync(ws.path(name(i)));
      expect([now.size, now.mtimeMs, now.ino === old.ino]).toEqual([old.size, old.mtimeMs, false]);
    };
    replace(200, '7\n');
    expect((await status(ws)).stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(200) },
    ]);
    // Two neighbours that differ (1 and 3) will trade names.
    replace(300, '3\n');
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.read('out/count.txt')).toBe(`${N + 6 + 2}\n`);
    await status(ws);
    expect((await status(ws)).stale).toEqual([]);

    // Every stamp is one the folder had, each under the other name.
    renameSync(ws.path(name(300)), ws.path('data/swap.txt'));
    renameSync(ws.path(name(301)), ws.path(name(300)));
    renameSync(ws.path('data/swap.txt'), ws.path(name(301)));
    expect((await status(ws)).stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(300) },
      { kind: 'dep-modified', path: 'data/many', file: name(301) },
    ]);
    expect((await ws.pipe('build')).code).toBe(0);
    await status(ws);

    // A new name in the same place in path order: the same stamps in the same order.
    renameSync(ws.path(name(400)), ws.path(`${name(400)}~`));
    expect((await status(ws)).stages[0]!.reasons).toEqual([
      { kind: 'dep-deleted', path: 'data/many', file: name(400) },
      { kind: 'dep-added', path: 'data/many', file: `${name(400)}~` },
    ]);
  });

  it('catches a same-size rewrite that keeps the mtime, when the part was statted within the racy window', async () => {
    const ws = await built();
    await status(ws);
    // A whole second 30 s ahead: however slow the machine, every look sees it as too new to trust.
    const pinned = Math.floor(Date.now() / 1000) + 30;
    utimesSync(ws.path(name(500)), pinned, pinned);
    expect((await status(ws)).stale).toEqual([]); // same content, and the part is looked at
    const before = statSync(ws.path(name(500)), { bigint: true });
    writeFileSync(ws.path(name(500)), '9\n'); // same size, same inode
    utimesSync(ws.path(name(500)), pinned, pinned);
    const after = statSync(ws.path(name(500)), { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([
      before.size,
      before.mtimeNs,
      before.ino,
    ]);
    expect((await status(ws)).stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(500) },
    ]);
  });

  it('a status that records a changed folder stores its file list, so the next status names the change from it', async () => {
    const ws = await built();
    await status(ws);
    const manifests = (): string[] => readdirSync(ws.path('.pipe/manifests')).sort();
    const before = manifests();
    writeFileSync(ws.path(name(7)), '3\n');
    const past = Date.now() / 1000 - 60;
    utimesSync(ws.path(name(7)), past, past); // old enough: the new folder entry is kept
    const first = await status(ws);
    expect(first.stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(7) },
    ]);
    const added = manifests().filter((m) => !before.includes(m));
    expect(added).toHaveLength(1);
    // The stored list holds the edited file's new content hash (sha256 of "3\n", computed here).
    // The store holds the manifest's text, `<path>\t<sha256>\t<size>\n` per file, named by its hash.
    const text = readFileSync(ws.path(`.pipe/manifests/${added[0]!}`), 'utf8');
    expect(`${createHash('sha256').update(text).digest('hex')}.txt`).toBe(added[0]);
    const rows = text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => ({ path: l.split('\t')[0]!, sha256: l.split('\t')[1]! }));
    expect(rows).toHaveLength(N);
    expect(rows.find((r) => r.path === 'f00007.txt')!.sha256).toBe(
      createHash('sha256').update('3\n').digest('hex'),
    );
    // The next status is judged from the new entry's digest and names the same file.
    const second = await status(ws);
    expect(second.stages[0]!.reasons).toEqual(first.stages[0]!.reasons);
    expect(second.hashing.hashed).toBe(0);
  });

  it('a stage run on a folder judged by its digest records the full file list, even with the manifests gone', async () => {
    const ws = await built();
    await status(ws);
    expect((await status(ws)).hashing.hashed).toBe(0); // the digest now answers for the folder
    const lockBefore = ws.read('pipeline.lock');
    expect(lockBefore).toContain(`"files": ${N}`);
    rmSync(ws.path('.pipe/manifests'), { recursive: true }); // the file list must be made again
    const r = await ws.pipe('build', '--force-stage', 'count');
    expect(r.code).toBe(0);
    expect(ws.runs()).toEqual(['count']);
    expect(ws.read('pipeline.lock')).toBe(lockBefore); // same hashes, same count
    expect(await status(ws)).toMatchObject({ stale: [] });
  });

  it('made by an upstream stage in the same build: the downstream stage records the same folder hash and count', async () => {
    // gen writes the folder; once gen is recorded the memo keeps only its hash (observe-memo.ts
    // settle) and count's record reads the file list back from the manifest store.
    const ws = await tempWorkspace({
      'pipeline.yaml':
        'stages:\n  gen:\n    cmd: stages/gen.mjs\n    outs: [data/many]\n' +
        '  count:\n    cmd: stages/count.mjs\n    deps: [data/many]\n    outs: [out/count.txt]\n',
      'stages/gen.mjs': stage`
        fs.mkdirSync(out('data/many'));
        for (let i = 0; i < ${N}; i++) fs.writeFileSync(out('data/many') + '/f' + String(i).padStart(5, '0') + '.txt', '1\\n');`,
      'stages/count.mjs': stage`
        fs.writeFileSync(out('out/count.txt'), String(fs.readdirSync('data/many').length) + '\\n');`,
    });
    expect((await ws.pipe('build', '-j', '1')).code).toBe(0);
    expect(ws.read('out/count.txt')).toBe(`${N}\n`);
    const lock = JSON.parse(ws.read('pipeline.lock')) as {
      stages: Record<string, { deps: Record<string, unknown>; outs: Record<string, unknown> }>;
    };
    expect(lock.stages.count!.deps['data/many']).toEqual(lock.stages.gen!.outs['data/many']);
    expect(lock.stages.count!.deps['data/many']).toMatchObject({ files: N, size: 2 * N }); // "1\n" each
    expect(await status(ws)).toMatchObject({ stale: [] });
  });

  it('a no-op is judged from .pipe/folders and .pipe/state-small alone; .pipe/state serves when a folder changed', async () => {
    const ws = await built();
    await status(ws);
    await status(ws); // now .pipe/folders and .pipe/state-small exist
    // An empty per-file cache: if a no-op needed it, every file would be hashed again.
    writeFileSync(ws.path('.pipe/state'), 'pipe-state 3\n');
    expect(await status(ws)).toMatchObject({ stale: [], hashing: { hashed: 0 } });
    writeFileSync(ws.path(name(7)), '2\n');
    const changed = await status(ws);
    expect(changed.stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(7) },
    ]);
    // The emptied cache answered for none of the files looked up, and only the changed file's
    // part of the folder (about 64 names, lib/observe/folder-parts.ts) was looked up at all.
    expect(changed.hashing.hashed).toBeGreaterThan(0);
    expect(changed.hashing.hashed).toBeLessThan(N / 100);
  });

  it('a folder hash made from one changed part and the stored lines of the others equals one made from every file', async () => {
    const ws = await built();
    await status(ws);
    await status(ws);
    const contents = Array.from({ length: N }, () => '1\n');
    // Computed here from the files' contents alone: the manifest text, sha256'd.
    const expected = (): string =>
      createHash('sha256')
        .update(
          contents
            .map((c, i) => {
              const sha = createHash('sha256').update(c).digest('hex');
              return `${name(i).slice('data/many/'.length)}\t${sha}\t${c.length}\n`;
            })
            .join(''),
        )
        .digest('hex');
    const recorded = (): string | undefined =>
      readFileSync(ws.path('.pipe/folders'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('data/many\t'))
        ?.split('\t')[2];
    const past = Date.now() / 1000 - 60;
    const edit = (i: number, text: string): void => {
      writeFileSync(ws.path(name(i)), text);
      utimesSync(ws.path(name(i)), past, past); // old enough: the new entry is kept
      contents[i] = text;
    };

    const late = Math.floor((N * 3) / 4);
    edit(late, '7\n');
    const one = await status(ws);
    expect(one.stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/many', file: name(late) },
    ]);
    expect(one.hashing.hashed).toBe(1);
    expect(recorded()).toBe(expected());

    // With the stored manifests gone the other parts are looked at again: the same hash.
    edit(3, '8\n');
    rmSync(ws.path('.pipe/manifests'), { recursive: true });
    const two = await status(ws);
    expect(two.stale).toEqual(['count']);
    expect(two.hashing.hashed).toBe(1);
    expect(recorded()).toBe(expected());
  });
});

describe('a big dep folder looked at from another folder than the workspace', () => {
  // The workers stat by a path from the cwd when the workspace is at or below it
  // (hash-worker.ts fromCwd): from the workspace ('.'), from its parent ('ws'), and from a
  // subfolder ('..', so the absolute path) each must see the same stamps and the same edit.
  it('is fresh from the digest, and names an edit, from a subfolder and from its parent with -C', async () => {
    const ws = await built();
    await status(ws);
    expect((await status(ws)).hashing.hashed).toBe(0);
    const parent = dirname(ws.root);
    const from = (cwd: string, ...args: string[]): StatusJson => {
      const r = spawnSync(process.execPath, [pipeBin, ...args, 'status', '--json'], {
        cwd,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME, CI: 'true' },
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as StatusJson;
    };
    for (const quiet of [from(ws.path('data')), from(parent, '-C', 'ws')]) {
      expect(quiet).toMatchObject({ stale: [], hashing: { hashed: 0 } });
      expect(quiet.hashing.statted).toBeGreaterThanOrEqual(N);
    }
    writeFileSync(ws.path(name(4321)), '6\n');
    for (const edited of [from(ws.path('data')), from(parent, '-C', 'ws')])
      expect(edited.stages[0]!.reasons).toEqual([
        { kind: 'dep-modified', path: 'data/many', file: name(4321) },
      ]);
  });
});

describe('a big dep folder with few top-level names (uploads/webapp/<241,605 files>)', () => {
  const nested = (i: number): string => `data/nest/all/f${String(i).padStart(5, '0')}.txt`;

  it('is cut into parts below its one subfolder: one edit looks up one part, not every file', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml':
        'stages:\n  count:\n    cmd: stages/count.mjs\n    deps: [data/nest]\n    outs: [out/count.txt]\n',
      'stages/count.mjs': stage`
        let sum = 0;
        for (const n of fs.readdirSync('data/nest/all')) sum += Number(fs.readFileSync('data/nest/all/' + n, 'utf8'));
        fs.writeFileSync(out('out/count.txt'), String(sum) + '\\n');`,
    });
    mkdirSync(ws.path('data/nest/all'), { recursive: true });
    const past = Date.now() / 1000 - 60;
    for (let i = 0; i < N; i++) {
      writeFileSync(ws.path(nested(i)), '1\n');
      utimesSync(ws.path(nested(i)), past, past);
    }
    ws.age('stages/count.mjs', 60);
    expect((await ws.pipe('build')).code).toBe(0);
    await status(ws);

    // Same size, an older mtime than before (still old enough to be trusted): a new stamp.
    writeFileSync(ws.path(nested(EDITED)), '5\n');
    utimesSync(ws.path(nested(EDITED)), past - 10, past - 10);
    // Without the per-file cache every file looked up would be hashed again: what is hashed is
    // what was looked up. The other parts' lines come from the stored manifest.
    rmSync(ws.path('.pipe/state'));
    const one = await status(ws);
    expect(one.stages[0]!.reasons).toEqual([
      { kind: 'dep-modified', path: 'data/nest', file: nested(EDITED) },
    ]);
    expect(one.hashing.statted).toBeGreaterThanOrEqual(N);
    expect(one.hashing.hashed).toBeLessThan(N / 20);

    // The folder hash recorded is the one computed here from every file's content.
    const expected = createHash('sha256')
      .update(
        Array.from({ length: N }, (_, i) => {
          const c = i === EDITED ? '5\n' : '1\n';
          const sha = createHash('sha256').update(c).digest('hex');
          return `all/f${String(i).padStart(5, '0')}.txt\t${sha}\t${c.length}\n`;
        }).join(''),
      )
      .digest('hex');
    const recorded = readFileSync(ws.path('.pipe/folders'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('data/nest\t'))
      ?.split('\t')[2];
    expect(recorded).toBe(expected);
  });
});
