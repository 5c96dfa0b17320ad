// Upload sources as deps, through the real CLI: a folder outside the workspace and a gs:// prefix
// on the GCS test server (test/gcs-server), named by ${UPLOADS_URL}. A new, replaced or deleted
// upload makes the reading stage stale, `pipe status` names it, and a build re-runs that stage and
// what follows only; a failed look is never fresh (exit 8, nothing started); --offline says what
// it skips; an unset or malformed ${VAR} is a located error. The expected names are the files and
// objects this test creates, spelt out here, not read back from pipe.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_WALK_MIN } from '../lib/observe/types.js';
import { startGcsServer, type GcsServer } from './gcs-server/index.js';
import { stage, tempWorkspace, type TempWorkspace } from './helpers/workspace.js';

/** `copy` reads the uploads (as PIPE_SOURCES hands them over), `after` reads copy's out; `other` is independent. */
const PIPELINE = `stages:
  copy:
    cmd: stages/copy.mjs
    deps:
      - \${UPLOADS_URL}
    env: [UPLOADS_URL]
    outs: [data/list.txt]
  after:
    cmd: stages/after.mjs
    deps: [data/list.txt]
    outs: [data/after.txt]
  other:
    cmd: stages/other.mjs
    outs: [data/other.txt]
`;
const COPY = stage`
const seen = JSON.parse(fs.readFileSync(process.env.PIPE_SOURCES, 'utf8')).sources['\${UPLOADS_URL}'];
const rows = seen.kind === 'bucket' ? seen.objects.map((o) => o.path + ' ' + o.generation) : seen.files.map((f) => f.path + ' ' + f.sha256);
fs.writeFileSync(out('data/list.txt'), rows.join('\\n') + '\\n');`;
const AFTER = stage`fs.writeFileSync(out('data/after.txt'), String(fs.readFileSync('data/list.txt', 'utf8').length));`;
const OTHER = stage`fs.writeFileSync(out('data/other.txt'), 'other');`;

async function workspace(env: string): Promise<TempWorkspace> {
  return tempWorkspace({
    'pipeline.yaml': PIPELINE,
    'stages/copy.mjs': COPY,
    'stages/after.mjs': AFTER,
    'stages/other.mjs': OTHER,
    'config/.env.local': env,
  });
}

describe('a folder outside the workspace', () => {
  it('is observed: new, replaced and deleted uploads are named and re-run copy and after only', async () => {
    const uploads = join(tmpRoot(), 'uploads');
    const put = (name: string, text: string) => {
      mkdirSync(dirname(join(uploads, name)), { recursive: true });
      writeFileSync(join(uploads, name), text);
    };
    put('a.session.json', '{"a":1}');
    put('b.session.json', '{"b":1}');
    const url = `file://${uploads}`;
    const ws = await workspace(`UPLOADS_URL=${url}\n`);
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().sort()).toEqual(['after', 'copy', 'other']);
    expect((await ws.pipe('status')).stdout).toContain('everything is fresh');

    put('c.session.json', '{"c":1}');
    let status = await ws.pipe('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`copy: stale\n  dep added: ${url}/c.session.json\n`);
    ws.clearRuns();
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().sort()).toEqual(['after', 'copy']);

    put('a.session.json', '{"a":2}');
    rmSync(join(uploads, 'b.session.json'));
    status = await ws.pipe('status');
    expect(status.stdout).toContain(`  dep modified: ${url}/a.session.json\n`);
    expect(status.stdout).toContain(`  dep deleted: ${url}/b.session.json\n`);
    ws.clearRuns();
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().sort()).toEqual(['after', 'copy']);
    expect(ws.read('data/list.txt')).toMatch(/^a\.session\.json [0-9a-f]{64}\nc\.session\.json /);
  });

  it('hands an incremental: changes run only its added and modified files, with their hashes', async () => {
    // A big folder (WORKER_WALK_MIN uploads: observed on the workers, its manifest stored as it
    // is observed), so the listed files come from lines found in that manifest, not a full list.
    const uploads = join(tmpRoot(), 'changes');
    mkdirSync(uploads, { recursive: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    const put = (name: string, text: string) => {
      writeFileSync(join(uploads, name), text);
      utimesSync(join(uploads, name), hourAgo, hourAgo);
    };
    for (let i = 0; i < WORKER_WALK_MIN; i++)
      put(`u${String(i).padStart(5, '0')}.json`, `{"u":${i}}`);
    put('a.session.json', '{"a":1}');
    put('b.session.json', '{"b":1}');
    const ws = await tempWorkspace({
      'pipeline.yaml': `stages:
  mirror:
    cmd: stages/mirror.mjs
    deps:
      - \${UPLOADS_URL}
    env: [UPLOADS_URL]
    incremental: changes
    outs: [data/seen]
`,
      // Each run appends the files it was handed to data-log (beside the outs, for this test);
      // an incremental one writes a file per file handed, a full one only their count.
      'stages/mirror.mjs': stage`
const files = JSON.parse(fs.readFileSync(process.env.PIPE_SOURCES, 'utf8')).sources['\${UPLOADS_URL}'].files;
const dir = out('data/seen');
fs.mkdirSync(dir, { recursive: true });
if (process.env.PIPE_REMOVALS) {
  fs.appendFileSync('data-log', JSON.stringify(files) + '\\n');
  for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.sha256);
  fs.writeFileSync(process.env.PIPE_REMOVALS, JSON.stringify({ 'data/seen': ['b.session.json'] }));
} else fs.writeFileSync(path.join(dir, 'count'), String(files.length));`,
      'config/.env.local': `UPLOADS_URL=file://${uploads}\n`,
    });
    const first = await ws.pipe('build');
    expect(first.code, first.stderr).toBe(0);
    expect(ws.read('data/seen/count')).toBe(String(WORKER_WALK_MIN + 2));
    put('a.session.json', '{"a":22}');
    rmSync(join(uploads, 'b.session.json'));
    put('c.session.json', '{"c":333}');
    const r = await ws.pipe('build');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('mirror: running incrementally');
    const file = (path: string, text: string) => ({
      path,
      size: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    });
    expect(JSON.parse(ws.read('data-log'))).toEqual([
      file('a.session.json', '{"a":22}'),
      file('c.session.json', '{"c":333}'),
    ]);
    expect((await ws.pipe('status', '--check')).code).toBe(0);
  });

  it('that is gone makes status exit 8 naming it, and build start nothing that reads it', async () => {
    const uploads = join(tmpRoot(), 'gone');
    mkdirSync(uploads, { recursive: true });
    writeFileSync(join(uploads, 'a.session.json'), '{}');
    const ws = await workspace(`UPLOADS_URL=file://${uploads}\n`);
    expect((await ws.pipe('build')).code).toBe(0);
    rmSync(uploads, { recursive: true });
    const status = await ws.pipe('status');
    expect(status.code).toBe(8);
    expect(status.stdout).toContain(
      `  cannot look at upload source file://${uploads} (\${UPLOADS_URL}): ${uploads} does not exist\n`,
    );
    expect(status.stdout).not.toContain('everything is fresh');
    ws.clearRuns();
    const build = await ws.pipe('build', '--force');
    expect(build.code).toBe(8);
    expect(build.stderr).toContain(`copy: not run: cannot look at upload source file://${uploads}`);
    expect(ws.runs()).toEqual(['other']);
  });
});

describe(`\${VAR} deps`, () => {
  it('unset: a located error saying where to set it', async () => {
    const ws = await workspace('');
    const r = await ws.pipe('status');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `pipeline.yaml:5:9: error: dep "\${UPLOADS_URL}" of stage "copy": UPLOADS_URL is not set`,
    );
    expect(r.stderr).toContain('set UPLOADS_URL in config/.env.local');
  });

  it('malformed: a located error naming the value and the file that sets it', async () => {
    const ws = await workspace('UPLOADS_URL=ftp://example/uploads\n');
    const r = await ws.pipe('build');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `pipeline.yaml:5:9: error: dep "\${UPLOADS_URL}" of stage "copy": UPLOADS_URL=ftp://example/uploads (from config/.env.local) is neither file://<folder> nor gs://<bucket>/<prefix>`,
    );
    expect(ws.runs()).toEqual([]);
  });
});

describe('a gs:// prefix', () => {
  const BUCKET = 'uploads-test';
  let server: GcsServer;
  beforeAll(async () => {
    server = await startGcsServer([BUCKET]);
  });
  afterAll(() => server.stop());
  const bucket = () => new Storage({ apiEndpoint: server.url }).bucket(BUCKET);
  const save = (name: string, text: string) =>
    bucket().file(`in/${name}`).save(text, { resumable: false });
  const env = () => `UPLOADS_URL=gs://${BUCKET}/in\nPIPE_GCS_ENDPOINT=${server.url}\n`;
  const url = `gs://${BUCKET}/in`;

  it('is observed by its listing: new, replaced (new generation) and deleted objects', async () => {
    await save('a.session.json', '{"a":1}');
    await save('b.session.json', '{"b":1}');
    const ws = await workspace(env());
    expect((await ws.pipe('build')).code).toBe(0);
    expect((await ws.pipe('status')).stdout).toContain('everything is fresh');

    await save('c.session.json', '{"c":1}');
    let status = await ws.pipe('status');
    expect(status.stdout).toContain(`copy: stale\n  dep added: ${url}/c.session.json\n`);
    ws.clearRuns();
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().sort()).toEqual(['after', 'copy']);

    // The same bytes written again: a new generation, so a new object.
    await save('a.session.json', '{"a":1}');
    await bucket().file('in/b.session.json').delete();
    status = await ws.pipe('status');
    expect(status.stdout).toContain(`  dep modified: ${url}/a.session.json\n`);
    expect(status.stdout).toContain(`  dep deleted: ${url}/b.session.json\n`);
    ws.clearRuns();
    expect((await ws.pipe('build')).code).toBe(0);
    expect(ws.runs().sort()).toEqual(['after', 'copy']);
    const [meta] = await bucket().file('in/a.session.json').getMetadata();
    expect(ws.read('data/list.txt').split('\n')[0]).toBe(`a.session.json ${meta.generation}`);
  });

  it('1,200 objects across pages collapse to a count in text, every one in --json', async () => {
    const ws = await workspace(env());
    await save('base.session.json', '{}');
    expect((await ws.pipe('build')).code).toBe(0);
    const names = Array.from(
      { length: 1200 },
      (_, i) => `bulk/${String(i).padStart(4, '0')}.session.json`,
    );
    await server.bulkCreate(
      BUCKET,
      names.map((n) => `in/${n}`),
    );
    const before = (await server.requests()).length;
    const status = await ws.pipe('status');
    const lists = (await server.requests())
      .slice(before)
      .filter((r) => r.method === 'GET' && r.path === `/storage/v1/b/${BUCKET}/o`);
    expect(lists.length).toBeGreaterThanOrEqual(2); // at most 1000 objects a page
    expect(status.stdout).toContain(`  1200 uploads added in \${UPLOADS_URL}:\n`);
    expect(status.stdout).toContain(`    dep added: ${url}/bulk/0000.session.json\n`);
    expect(status.stdout).toContain(
      '    ... and 1195 more (`npx pipe status --json` lists every one)\n',
    );
    const json = JSON.parse((await ws.pipe('status', '--json')).stdout) as {
      stages: { name: string; reasons: { kind: string; file?: string }[] }[];
    };
    const added = json.stages[0]!.reasons.filter((r) => r.kind === 'dep-added').map((r) => r.file);
    expect(added).toEqual(names.map((n) => `${url}/${n}`));
  });

  it('a failed listing: status exits 8 naming the source, build runs nothing that reads it', async () => {
    await save('a.session.json', '{"a":1}');
    const ws = await workspace(env());
    expect((await ws.pipe('build')).code).toBe(0);
    // Each look is a first attempt and 4 retries: 5 for status, 5 for build, none left after.
    await server.injectFailure({ path: `^/storage/v1/b/${BUCKET}/o\\?`, mode: '503', count: 10 });
    const status = await ws.pipe('status');
    expect(status.code).toBe(8);
    expect(status.stdout).toContain(
      `  cannot look at upload source ${url} (\${UPLOADS_URL}): cannot list gs://${BUCKET}/in/`,
    );
    ws.clearRuns();
    const build = await ws.pipe('build', 'after');
    expect(build.code).toBe(8);
    expect(build.stderr).toContain(`copy: not run: cannot look at upload source ${url}`);
    expect(ws.runs()).toEqual([]);
    expect((await ws.pipe('status')).code).toBe(0);
  });

  it('--offline does not list the bucket and says so', async () => {
    await save('a.session.json', '{"a":1}');
    const ws = await workspace(env());
    expect((await ws.pipe('build')).code).toBe(0);
    await save('new.session.json', '{}');
    const before = (await server.requests()).length;
    const status = await ws.pipe('status', '--offline');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      `offline: ${url} (dep of copy) not checked; copy is judged as its last build saw it, so uploads added, replaced or deleted there since are not seen\n`,
    );
    expect(status.stdout).toContain('copy: fresh\n');
    ws.clearRuns();
    const build = await ws.pipe('build', '--offline');
    expect(build.code).toBe(0);
    expect(build.stderr).toContain(`offline: ${url} (dep of copy) not checked`);
    expect(ws.runs()).toEqual([]);
    expect((await server.requests()).length).toBe(before);
    // Online again, the new object is seen.
    expect((await ws.pipe('status')).stdout).toContain(`dep added: ${url}/new.session.json`);
  });
});

let scratch: string | undefined;
/** A folder outside any test workspace, removed after the file's tests. */
function tmpRoot(): string {
  scratch ??= join(process.env.TMPDIR ?? '/tmp', `pipe-sources-${process.pid}`);
  mkdirSync(scratch, { recursive: true });
  return scratch;
}
afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});
