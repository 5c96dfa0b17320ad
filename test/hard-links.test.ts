// A hard link is the same file under another path (stage download links uploads into data/raw).
// Once a file has been hashed with a trusted stamp, another path to the same device and inode, with
// the same size and mtime, is answered from that hash instead of being read again (state-cache.ts,
// HARD LINKS). status --json counts the files it read ("hashed"), which shows whether it did.
//
//   make ──▶ src/f00..f39 ──▶ link ──▶ dst/f00..f39 (hard links of src's files, made by the test)
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stage, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

const N = 40;
const name = (i: number): string => `f${String(i).padStart(2, '0')}`;

interface StatusJson {
  stale: string[];
  hashing: { statted: number; hashed: number };
}

/**
 * With `make`, src is an out of a stage upstream of link (never run: status only). `aged`: src's
 * files are older than the racy window (trusted), else written just now.
 */
async function linkedWorkspace(withMake = true, aged = true): Promise<TempWorkspace> {
  const ws = await tempWorkspace({
    'pipeline.yaml': [
      'stages:',
      ...(withMake ? ['  make:', '    cmd: stages/make.mjs', '    outs: [src]'] : []),
      '  link:',
      '    cmd: stages/link.mjs',
      '    deps: [src]',
      '    outs: [dst]',
      '',
    ].join('\n'),
    'stages/make.mjs': stage`fs.mkdirSync(out('src'));`,
    'stages/link.mjs': stage`fs.mkdirSync(out('dst'));`,
  });
  for (const script of ['stages/make.mjs', 'stages/link.mjs']) ws.age(script, 60);
  mkdirSync(ws.path('src'));
  mkdirSync(ws.path('dst'));
  for (let i = 0; i < N; i++) {
    writeFileSync(ws.path(`src/${name(i)}`), `content of file ${i}\n`);
    if (aged) ws.age(`src/${name(i)}`, 60); // trusted: older than the racy window
    linkSync(ws.path(`src/${name(i)}`), ws.path(`dst/${name(i)}`));
  }
  return ws;
}

const status = async (ws: TempWorkspace): Promise<StatusJson> =>
  JSON.parse((await ws.pipe('status', '--json')).stdout) as StatusJson;

describe('hard links', () => {
  it('are read once: the second path to a file is answered by the hash of the first', async () => {
    const ws = await linkedWorkspace();
    // make's out src is observed first (stages upstream first), then link's dep src (the same
    // observation) and its out dst: the two stage scripts and N files read, not 2N.
    expect((await status(ws)).hashing).toEqual({ statted: 2 + 2 * N, hashed: 2 + N });
    expect((await status(ws)).hashing).toEqual({ statted: 2 + 2 * N, hashed: 0 }); // every path remembered
  });

  it('written just now are read once per process too, and their hashes are never kept', async () => {
    const ws = await linkedWorkspace(true, false);
    // Too new to trust: src's files are hashed, dst's answered from them, and neither is saved,
    // so the next status reads src's again (not dst's).
    expect((await status(ws)).hashing).toEqual({ statted: 2 + 2 * N, hashed: 2 + N });
    const saved = ws.exists('.pipe/state') ? ws.read('.pipe/state') : '';
    expect(saved).not.toMatch(/^(src|dst)\//m);
    expect((await status(ws)).hashing).toEqual({ statted: 2 + 2 * N, hashed: N });
  });

  it('are read again when the file changed since: a stage that edits a linked file in place records its new content', async () => {
    const ws = await linkedWorkspace(false);
    // src is a plain dep, hashed before link runs. link makes dst as links of src's files, then appends to one through its link: the inode that
    // src/f07 hashed to before the stage now has another size and mtime.
    ws.write(
      'stages/link.mjs',
      stage`
      fs.mkdirSync(out('dst'));
      for (const f of fs.readdirSync('src')) fs.linkSync('src/' + f, out('dst') + '/' + f);
      fs.appendFileSync(out('dst') + '/f07', 'appended in place\\n');`,
    );
    expect((await ws.pipe('build')).code).toBe(0);
    // The lock's hash of dst, against one computed here from the bytes (hash.ts manifestHash:
    // sha256 over "<path in folder>\t<sha256>\t<size>\n", sorted by path).
    const lines = [...Array(N).keys()].map((i) => {
      const bytes = readFileSync(ws.path(`dst/${name(i)}`));
      return `${name(i)}\t${createHash('sha256').update(bytes).digest('hex')}\t${bytes.length}\n`;
    });
    const lock = JSON.parse(ws.read('pipeline.lock')) as {
      stages: Record<string, { outs: Record<string, { sha256: string }> }>;
    };
    expect(ws.read('dst/f07')).toContain('appended in place');
    expect(lock.stages.link!.outs.dst!.sha256).toBe(
      createHash('sha256').update(lines.join('')).digest('hex'),
    );
  });
});
