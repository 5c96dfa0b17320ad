// Uploads made to break or silently corrupt a build (issue 13), through the real CLI: each case is
// a workspace whose uploads are a small good set plus the hostile ones, built with
// `pipe build clean`. A build never fails because of a bad upload, every bad upload is a reject row
// naming its rule and file, and the good uploads' rows are exactly those of a build without the
// hostile ones (the independent reference: the same pipeline over the good set alone).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from './helpers/clean-rig.js';
import { REPO } from './helpers/run-stage.js';
import { copyRepoPipeline, runPipeIn } from './helpers/repo-copy.js';

const AALTO = join(REPO, 'samples/aalto');
const WEBAPP = join(REPO, 'samples/webapp');
const GOOD_AALTO = ['102_keystrokes.txt', '1371_keystrokes.txt', '529_keystrokes.txt'];
const GOOD_WEBAPP = [
  '003a4288-51d7-7f0c-f25ca165553c.session.json',
  '00d5f462-f26c-9fee-f85ade54fb22.session.json',
  '02ab41ba-c0c4-1292-da8b4e3f5a95.session.json.gz',
];
const GOOD_FILES = [
  ...GOOD_AALTO.map((f) => `aalto/${f}`),
  ...GOOD_WEBAPP.map((f) => `webapp/${f}`),
];
/** params.yaml's defaults (the test reads them so a changed default cannot silently pass). */
const MIB = 2 ** 20;

const temp = mkdtempSync(join(tmpdir(), 'pipe-hostile-'));
const made: string[] = [];
afterAll(() => {
  for (const dir of [temp, ...made]) rmSync(dir, { recursive: true, force: true });
});

/** An Aalto file of another participant: 2917's lines (no traps) under a new PARTICIPANT_ID. */
function aaltoAs(participant: string, edit?: (fields: string[], lineNo: number) => void): string {
  const [header, ...lines] = readFileSync(join(AALTO, '2917_keystrokes.txt'), 'latin1').split('\n');
  const body = lines.map((line, i) => {
    if (line === '') return line;
    const fields = line.split('\t');
    fields[0] = participant;
    edit?.(fields, i + 2);
    return fields.join('\t');
  });
  return [header, ...body].join('\n');
}

/** Data lines of an Aalto file, counted without DuckDB: lines after the header, less the empty tail. */
function dataLines(text: string): number {
  const lines = text.split('\n').slice(1);
  return lines.at(-1) === '' ? lines.length - 1 : lines.length;
}

const sampleDoc = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(WEBAPP, GOOD_WEBAPP[0]!), 'utf8')) as Record<string, unknown>;

/**
 * A workspace over the good uploads plus `extra` (path under the upload root -> bytes), built up
 * to `target`; at `at` (a new folder's path) when given.
 */
function buildWith(
  extra: Record<string, string | Buffer>,
  target = 'clean',
  at?: string,
): {
  root: string;
  status: number | null;
  output: string;
} {
  const uploads = mkdtempSync(join(temp, 'uploads-'));
  mkdirSync(join(uploads, 'aalto'));
  mkdirSync(join(uploads, 'webapp'));
  for (const f of GOOD_AALTO)
    writeFileSync(join(uploads, 'aalto', f), readFileSync(join(AALTO, f)));
  for (const f of GOOD_WEBAPP)
    writeFileSync(join(uploads, 'webapp', f), readFileSync(join(WEBAPP, f)));
  for (const [path, body] of Object.entries(extra)) writeFileSync(join(uploads, path), body);
  let root = copyRepoPipeline('pipe-hostile-ws-');
  made.push(root);
  if (at !== undefined) {
    renameSync(root, at);
    root = at;
  }
  writeFileSync(
    join(root, 'config/.env.local'),
    `UPLOADS_URL=file://${uploads}\nPIPE_REMOTE=file://${join(temp, 'remote')}\n`,
  );
  const r = runPipeIn(root, 'build', target);
  return { root, status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

const table = (root: string, name: string) =>
  `read_parquet('${join(root, 'data/clean', name).replaceAll("'", "''")}/*.parquet', union_by_name = true)`;
const sqlList = (values: readonly string[]) =>
  `(${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')})`;

/** Rows of the good uploads that differ (either way, with multiplicity) from the reference build. */
async function goodRowsChanged(root: string): Promise<number> {
  let changed = 0;
  for (const name of ['keystrokes', 'rejects']) {
    const mine = `(SELECT * FROM ${table(root, name)} WHERE source_file IN ${sqlList(GOOD_FILES)})`;
    const ref = `(SELECT * FROM ${table(reference, name)})`;
    const [row] = await query<{ n: number }>(`SELECT (
        (SELECT count(*) FROM (SELECT * FROM ${mine} EXCEPT ALL SELECT * FROM ${ref})) +
        (SELECT count(*) FROM (SELECT * FROM ${ref} EXCEPT ALL SELECT * FROM ${mine})))::INTEGER AS n`);
    changed += row!.n;
  }
  return changed;
}

async function rejectsOf(
  root: string,
  file: string,
): Promise<{ rule: string; source: string; source_line: number | null; detail: string }[]> {
  return query(
    `SELECT rule, source, source_line, detail FROM ${table(root, 'rejects')}
     WHERE source_file = '${file.replaceAll("'", "''")}' ORDER BY source_line NULLS FIRST, rule`,
  );
}

const summary = (root: string) =>
  JSON.parse(readFileSync(join(root, 'data/clean/summary.json'), 'utf8')) as {
    rejected: Record<string, number>;
    by_source: Record<'webapp' | 'aalto', { files_in: number; rejected: Record<string, number> }>;
  };

let reference: string;
beforeAll(() => {
  const built = buildWith({});
  expect(built.status, built.output).toBe(0);
  reference = built.root;
}, 300_000);

describe('hostile uploads through pipe build clean', () => {
  it('reads Aalto files named with glob characters literally, each exactly once', async () => {
    // `1*` matches 102 and 1371 as a glob; `1[0]2` matches 102 instead of itself; `1?`, `1{0}2`
    // and one with a backslash must be read as named too.
    const weird: Record<string, string> = {
      '1*_keystrokes.txt': 'p-star',
      '1?_keystrokes.txt': 'p-question',
      '1[0]2_keystrokes.txt': 'p-bracket',
      '1{0}2_keystrokes.txt': 'p-brace',
      '1\\*[_keystrokes.txt': 'p-backslash',
    };
    const texts = Object.fromEntries(Object.entries(weird).map(([f, p]) => [f, aaltoAs(p)]));
    const built = buildWith(
      Object.fromEntries(Object.entries(texts).map(([f, t]) => [`aalto/${f}`, t])),
    );
    expect(built.status, built.output).toBe(0);
    for (const [file, participant] of Object.entries(weird)) {
      const [rows] = await query<{ kept: number; rejected: number; users: string[] }>(`SELECT
          (SELECT count(*) FROM ${table(built.root, 'keystrokes')} WHERE source_file = 'aalto/${file}')::INTEGER AS kept,
          (SELECT count(*) FROM ${table(built.root, 'rejects')} WHERE source_file = 'aalto/${file}')::INTEGER AS rejected,
          (SELECT list(DISTINCT user_id ORDER BY user_id) FROM ${table(built.root, 'keystrokes')}
            WHERE source_file = 'aalto/${file}' OR user_id = '${participant}') AS users`);
      expect(rows!.kept + rows!.rejected, file).toBe(dataLines(texts[file]!));
      expect(rows!.users, file).toEqual([participant]);
    }
    expect(await goodRowsChanged(built.root)).toBe(0);
  }, 300_000);

  it('files a web-app upload with a key twice as duplicate_key, not a crash', async () => {
    const doc = JSON.stringify(sampleDoc());
    const twiceTop = `{"events":[],${doc.slice(1)}`;
    // The same key twice inside one event: the first event gets a second "t".
    const twiceInEvent = doc.replace('"events":[{"t":', '"events":[{"t":0,"t":');
    expect(twiceInEvent).not.toBe(doc);
    const built = buildWith({
      'webapp/twice-top.session.json': twiceTop,
      'webapp/twice-event.session.json.gz': gzipSync(twiceInEvent),
    });
    expect(built.status, built.output).toBe(0);
    expect(await rejectsOf(built.root, 'webapp/twice-top.session.json')).toEqual([
      {
        rule: 'duplicate_key',
        source: 'webapp',
        source_line: null,
        detail: expect.stringContaining('"events"'),
      },
    ]);
    expect(await rejectsOf(built.root, 'webapp/twice-event.session.json.gz')).toEqual([
      {
        rule: 'duplicate_key',
        source: 'webapp',
        source_line: null,
        detail: expect.stringContaining('/events/0'),
      },
    ]);
    expect(summary(built.root).rejected.duplicate_key).toBe(2);
    expect(await goodRowsChanged(built.root)).toBe(0);
  }, 300_000);

  it('files uploads over the size limits (params) as rejects, reading no more than the limit', async () => {
    const params = readFileSync(join(REPO, 'params.yaml'), 'utf8');
    const maxUpload = Number(/max_upload_bytes: (\d+)/.exec(params)?.[1]);
    const maxDecompressed = Number(/max_decompressed_bytes: (\d+)/.exec(params)?.[1]);
    expect(maxUpload).toBeGreaterThan(0);
    expect(maxDecompressed).toBeGreaterThan(0);
    // A valid upload past max_upload_bytes and past the 32 MiB maximum_object_size clean gave
    // DuckDB (a 200 MB one made the build exit 4): the sample's events repeated, shifted in time.
    const big = sampleDoc() as { events: { t: number }[] };
    const one = big.events;
    const copies = Math.ceil(Math.max(33 * MIB, maxUpload + MIB) / JSON.stringify(one).length);
    const events: unknown[] = [];
    for (let copy = 0; copy < copies; copy++)
      for (const e of one) events.push({ ...e, t: e.t + copy * 100_000 });
    const bigText = JSON.stringify({ ...big, session_id: 'big-session', events });
    // A gzip bomb: a valid document, then whitespace (still valid JSON) past max_decompressed_bytes.
    const bombText = Buffer.concat([
      Buffer.from(JSON.stringify({ ...sampleDoc(), session_id: 'bomb-session' })),
      Buffer.alloc(Math.max(40 * MIB, maxDecompressed + MIB), ' '),
    ]);
    const bomb = gzipSync(bombText, { level: 9 });
    expect(bomb.length).toBeLessThan(maxUpload);
    // An Aalto file past max_upload_bytes: 2917's lines over and over.
    const aaltoLines = aaltoAs('p-big').split('\n');
    const bigAalto = [aaltoLines[0]];
    let length = 0;
    while (length <= maxUpload)
      for (const line of aaltoLines.slice(1, -1)) {
        bigAalto.push(line);
        length += line.length + 1;
      }
    const built = buildWith({
      'webapp/big.session.json': bigText,
      'webapp/bomb.session.json.gz': bomb,
      'aalto/80020_keystrokes.txt': `${bigAalto.join('\n')}\n`,
    });
    expect(built.status, built.output).toBe(0);
    expect(await rejectsOf(built.root, 'webapp/big.session.json')).toEqual([
      {
        rule: 'upload_too_large',
        source: 'webapp',
        source_line: null,
        detail: `${Buffer.byteLength(bigText)} bytes, more than clean.max_upload_bytes (${maxUpload})`,
      },
    ]);
    expect(await rejectsOf(built.root, 'webapp/bomb.session.json.gz')).toEqual([
      {
        rule: 'decompressed_too_large',
        source: 'webapp',
        source_line: null,
        detail: `more than clean.max_decompressed_bytes (${maxDecompressed}) after gunzip (${bomb.length} bytes compressed)`,
      },
    ]);
    expect(await rejectsOf(built.root, 'aalto/80020_keystrokes.txt')).toEqual([
      {
        rule: 'upload_too_large',
        source: 'aalto',
        source_line: null,
        detail: expect.stringMatching(/^\d+ bytes, more than clean\.max_upload_bytes/),
      },
    ]);
    const s = summary(built.root);
    expect(s.by_source.webapp.rejected).toMatchObject({
      upload_too_large: 1,
      decompressed_too_large: 1,
    });
    expect(s.by_source.aalto.rejected).toMatchObject({ upload_too_large: 1 });
    expect(s.by_source.aalto.files_in).toBe(GOOD_AALTO.length + 1);
    expect(await goodRowsChanged(built.root)).toBe(0);
  }, 300_000);

  it('files empty uploads as empty_upload and counts them in summary.json', async () => {
    const built = buildWith({
      'webapp/no-events.session.json': JSON.stringify({
        ...sampleDoc(),
        session_id: 'no-events',
        events: [],
      }),
      'aalto/80030_keystrokes.txt': '',
      'aalto/80031_keystrokes.txt': `${aaltoAs('p-header').split('\n')[0]}\n`,
    });
    expect(built.status, built.output).toBe(0);
    for (const [file, source] of [
      ['webapp/no-events.session.json', 'webapp'],
      ['aalto/80030_keystrokes.txt', 'aalto'],
      ['aalto/80031_keystrokes.txt', 'aalto'],
    ] as const)
      expect(await rejectsOf(built.root, file), file).toEqual([
        { rule: 'empty_upload', source, source_line: null, detail: expect.any(String) },
      ]);
    const s = summary(built.root);
    expect(s.rejected.empty_upload).toBe(3);
    expect(s.by_source.webapp.rejected.empty_upload).toBe(1);
    expect(s.by_source.aalto.rejected.empty_upload).toBe(2);
    expect(await goodRowsChanged(built.root)).toBe(0);
  }, 300_000);

  it('reads its own tables in a workspace whose path, as a glob, matches another workspace', async () => {
    // `w[1]` as a glob is `w1`: every stage reading w[1]/data/... must read w[1]'s files, not w1's.
    const parent = mkdtempSync(join(temp, 'siblings-'));
    const other = buildWith(
      { 'aalto/80050_keystrokes.txt': aaltoAs('p-other') },
      'features',
      join(parent, 'w1'),
    );
    expect(other.status, other.output).toBe(0);
    const built = buildWith({}, 'features', join(parent, 'w[1]'));
    expect(built.status, built.output).toBe(0);
    expect(await goodRowsChanged(built.root)).toBe(0);
    const users = async (root: string, rel: string) =>
      (
        await query<{ u: string }>(
          `SELECT DISTINCT user_id AS u FROM read_parquet('${join(root, rel)}/*.parquet') ORDER BY u`,
        )
      ).map((r) => r.u);
    // The literal folder names in these test queries hold no glob characters past w[1]: DuckDB
    // here globs `w[1]`, which is w1, so the test reads w[1]'s files through a renamed view.
    const own = join(parent, 'own');
    renameSync(built.root, own);
    made.push(own);
    const clean = await users(own, 'data/clean/keystrokes');
    expect(clean).not.toContain('p-other');
    expect(await users(own, 'data/keypairs/keypairs')).toEqual(clean);
    // features keeps users with 15 sessions (params.yaml): here the three Aalto participants.
    const [kept] = await query<{ users: string[] }>(`SELECT list(user_id ORDER BY user_id) AS users
      FROM (SELECT user_id FROM read_parquet('${join(own, 'data/clean/sessions')}/*.parquet')
            GROUP BY user_id HAVING count(*) >= 15)`);
    expect(kept!.users).toEqual(['102', '1371', '529']);
    expect(await users(own, 'data/features/sequences')).toEqual(kept!.users);
  }, 300_000);

  it('files non-finite times (NaN, inf) as non_finite_time, not hold_over_max', async () => {
    // 2917's lines 5, 9 and 12 with a time DuckDB reads as NaN, +inf and -inf.
    const bad: Record<number, [number, string]> = {
      5: [5, 'NaN'],
      9: [6, 'inf'],
      12: [5, '-Infinity'],
    };
    const text = aaltoAs('p-nan', (fields, lineNo) => {
      const edit = bad[lineNo];
      if (edit !== undefined) fields[edit[0]] = edit[1];
    });
    const built = buildWith({ 'aalto/80040_keystrokes.txt': text });
    expect(built.status, built.output).toBe(0);
    expect(
      (await rejectsOf(built.root, 'aalto/80040_keystrokes.txt')).map((r) => [
        r.rule,
        r.source_line,
      ]),
    ).toEqual([
      ['non_finite_time', 5],
      ['non_finite_time', 9],
      ['non_finite_time', 12],
    ]);
    expect(await goodRowsChanged(built.root)).toBe(0);
  }, 300_000);
});
