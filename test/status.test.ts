// `pipe status`: reasons in text and JSON, --check's exit codes, and the state cache (a no-op
// status reads no file contents, yet a same-tick rewrite is still caught).
//
//   data/raw/ ──▶ clean ──▶ out/clean.txt ──▶ report ──▶ out/report.txt
import { createHash, randomBytes } from 'node:crypto';
import { statSync, utimesSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace } from './helpers/workspace.js';

const FILES = {
  'pipeline.yaml': `stages:
  clean:
    cmd: stages/clean.mjs
    deps: [data/raw]
    outs: [out/clean.txt]
    params: [clean.min]
  report:
    cmd: stages/report.mjs
    deps: [out/clean.txt]
    outs: [out/report.txt]
`,
  'params.yaml': 'clean:\n  min: 2\n',
  'data/raw/u1.txt': 'aa\n',
  'data/raw/u2.txt': 'b\n',
  'stages/clean.mjs': stage`
    const rows = fs.readdirSync('data/raw').sort().map((n) => fs.readFileSync('data/raw/' + n, 'utf8').trim());
    fs.writeFileSync(out('out/clean.txt'), rows.filter((r) => r.length >= param('clean.min')).join('\\n') + '\\n');`,
  'stages/report.mjs': stage`
    fs.writeFileSync(out('out/report.txt'), 'rows: ' + fs.readFileSync('out/clean.txt', 'utf8').trim().split('\\n').length + '\\n');`,
};

interface StatusJson {
  schema: number;
  stale: string[];
  stages: { name: string; state: string; reasons: Record<string, unknown>[] }[];
  hashing: { statted: number; hashed: number };
}

describe('hashing big deps', () => {
  it('a 17 MiB dep (hashed on a worker thread) gets the sha256 a one-shot hash of its bytes gives', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml':
        'stages:\n  use:\n    cmd: stages/use.mjs\n    deps: [data/big.bin]\n    outs: [out/use.txt]\n',
      'stages/use.mjs': stage`fs.writeFileSync(out('out/use.txt'), 'ok');`,
    });
    const bytes = randomBytes(17 << 20);
    ws.write('data/big.bin', bytes);
    expect((await ws.pipe('build')).code).toBe(0);
    const lock = JSON.parse(ws.read('pipeline.lock')) as {
      stages: { use: { deps: Record<string, unknown> } };
    };
    expect(lock.stages.use.deps['data/big.bin']).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: 17 << 20,
    });
  });
});

describe('pipe status', () => {
  it('says never built, then fresh; --check exits 1 then 0', async () => {
    const ws = await tempWorkspace(FILES);
    const before = await ws.pipe('status');
    expect(before.stdout).toBe(
      'clean: stale\n  never built\nreport: stale\n  never built\n  upstream stale: clean\n2 of 2 stages stale; run `npx pipe build`\n',
    );
    const check = await ws.pipe('status', '--check');
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('');
    await ws.pipe('build');
    expect((await ws.pipe('status')).stdout).toBe(
      'clean: fresh\nreport: fresh\neverything is fresh\n',
    );
    expect((await ws.pipe('status', '--check')).code).toBe(0);
  });

  it('--json lists every reason with its data (file-level inside a folder dep)', async () => {
    const ws = await tempWorkspace(FILES);
    await ws.pipe('build');
    ws.write('data/raw/u2.txt', 'bbb\n');
    ws.write('data/raw/u3.txt', 'cc\n');
    ws.remove('data/raw/u1.txt');
    ws.write('params.yaml', 'clean:\n  min: 3\n');
    const r = await ws.pipe('status', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as StatusJson;
    expect(doc.schema).toBe(2);
    expect(doc.stale).toEqual(['clean', 'report']);
    expect(doc.stages).toEqual([
      {
        name: 'clean',
        state: 'stale',
        reasons: [
          { kind: 'param-changed', key: 'clean.min', from: 2, to: 3 },
          { kind: 'dep-deleted', path: 'data/raw', file: 'data/raw/u1.txt' },
          { kind: 'dep-modified', path: 'data/raw', file: 'data/raw/u2.txt' },
          { kind: 'dep-added', path: 'data/raw', file: 'data/raw/u3.txt' },
        ],
      },
      { name: 'report', state: 'stale', reasons: [{ kind: 'upstream-stale', stage: 'clean' }] },
    ]);
  });

  it('names an unknown stage and exits 2', async () => {
    const ws = await tempWorkspace(FILES);
    const r = await ws.pipe('status', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pipe: no stage named "nope" in pipeline.yaml (stages: clean, report)\n');
  });

  it('a no-op status reads no file contents (state cache), only stats', async () => {
    const ws = await tempWorkspace(FILES);
    await ws.pipe('build');
    // Age every file past the racy window so the cache may trust what it hashes next.
    for (const f of [
      'data/raw/u1.txt',
      'data/raw/u2.txt',
      'stages/clean.mjs',
      'stages/report.mjs',
      'out/clean.txt',
      'out/report.txt',
    ]) {
      ws.age(f, 60);
    }
    const first = JSON.parse((await ws.pipe('status', '--json')).stdout) as StatusJson;
    expect(first.stale).toEqual([]);
    expect(first.hashing.hashed).toBeGreaterThan(0); // mtimes changed, so rehashed once
    const second = JSON.parse((await ws.pipe('status', '--json')).stdout) as StatusJson;
    expect(second.stale).toEqual([]);
    // 2 scripts + 2 raw files + clean's out + report's out: clean's out is also report's dep, but
    // one observation per path per process (lib/observe/memo.ts) stats it once.
    expect(second.hashing).toEqual({ statted: 6, hashed: 0 });
  });

  it('trusts what a build wrote moments before it statted it: the next status hashes nothing', async () => {
    // The 2 s wall-clock rule made the next status hash every out again; .pipe/clock's mtime,
    // written before the stats, is the filesystem's own clock (lib/observe/stat-clock.ts). The
    // stage waits 30 ms after writing, so its out is older than the marker by more than a tick.
    const ws = await tempWorkspace({
      'pipeline.yaml':
        'stages:\n  a:\n    cmd: stages/a.mjs\n    deps: [data/in.txt]\n    outs: [out/a.txt]\n',
      'stages/a.mjs': stage`
        fs.writeFileSync(out('out/a.txt'), fs.readFileSync('data/in.txt', 'utf8'));
        await new Promise((resolve) => setTimeout(resolve, 30));`,
      'data/in.txt': 'x\n',
    });
    expect((await ws.pipe('build')).code).toBe(0);
    expect(Date.now() - statSync(ws.path('out/a.txt')).mtimeMs).toBeLessThan(2000);
    const next = JSON.parse((await ws.pipe('status', '--json')).stdout) as StatusJson;
    expect(next.stale).toEqual([]);
    expect(next.hashing).toEqual({ statted: 3, hashed: 0 });
  });

  it('catches a same-size rewrite that keeps the mtime, when it happened within the racy window', async () => {
    const ws = await tempWorkspace(FILES);
    // Pin u1's mtime to a whole second 30 s ahead: however slow the machine, the build's hash is
    // taken within the racy window (mtime not older than 2 s), so the cache must not trust it.
    const pinned = Math.floor(Date.now() / 1000) + 30;
    utimesSync(ws.path('data/raw/u1.txt'), pinned, pinned);
    await ws.pipe('build');
    const stampBefore = statSync(ws.path('data/raw/u1.txt'), { bigint: true });
    ws.write('data/raw/u1.txt', 'zz\n'); // same size, same inode
    utimesSync(ws.path('data/raw/u1.txt'), pinned, pinned);
    const stampAfter = statSync(ws.path('data/raw/u1.txt'), { bigint: true });
    expect([stampAfter.size, stampAfter.mtimeNs, stampAfter.ino]).toEqual([
      stampBefore.size,
      stampBefore.mtimeNs,
      stampBefore.ino,
    ]);
    expect((await ws.pipe('status', 'clean')).stdout).toContain(
      'clean: stale\n  dep file modified: data/raw/u1.txt in data/raw\n',
    );
  });
});
