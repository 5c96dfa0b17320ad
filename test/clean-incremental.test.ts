// Incremental clean equals a full clean, property-style: a seeded random sequence of steps adds,
// replaces and deletes uploads of both formats (the sample uploads as they are, under other names
// and folders, and small ones made from them: shared and conflicting session ids, Aalto files whose
// name lies about the participant inside, sections split over files, broken files), and once the
// upload schema changes. After every step the real download stage updates data/raw, clean runs
// incrementally on the previous incremental outputs (linked in, as the runner does) and from
// scratch, and every table is compared as a multiset (EXCEPT ALL both ways and row counts), with
// summary.json and the metrics. The expected side is the from-scratch build: the same stage with no
// previous outputs. Parts are small (CLEAN_PART_BYTES), so both builds have many of them.
// PIPE_TEST_SEED picks another sequence; a failure names the seed and the step's operations.
import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  changes,
  compareTables,
  layoutProblems,
  runClean,
  snapshot,
  unchangedSince,
} from './helpers/clean-rig.js';
import { REPO, runStage, STAGES } from './helpers/run-stage.js';
import { tempWorkspace } from './helpers/stage-workspace.js';
import { seededRandom } from './helpers/seeded-random.js';

const SEED = Number(process.env.PIPE_TEST_SEED ?? 20261205);
const STEPS = 20;
const SCHEMA_STEP = 11;
const ENV = { UPLOADS_URL: 'file://uploads', CLEAN_PART_BYTES: '100000' };

const sampleDir = (format: string) => join(REPO, 'samples', format);
const webappSamples = readdirSync(sampleDir('webapp'))
  .filter((f) => f.includes('.session.json'))
  .sort();
const aaltoSamples = readdirSync(sampleDir('aalto'))
  .filter((f) => f.endsWith('_keystrokes.txt'))
  .sort();
const readSample = (format: string, name: string) => readFileSync(join(sampleDir(format), name));
/** The sample uploads that parse (material for made-up ones); the broken ones are copied as they are. */
const webappDocs = webappSamples.flatMap((name) => {
  try {
    const bytes = readSample('webapp', name);
    const doc = JSON.parse((name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8'));
    return Array.isArray(doc.events) && typeof doc.session_id === 'string' ? [doc] : [];
  } catch {
    return [];
  }
});
const aaltoLines = aaltoSamples.map((name) =>
  readSample('aalto', name).toString('latin1').split('\n'),
);

describe('incremental clean', () => {
  const ws = tempWorkspace();
  const scratch = mkdtempSync(join(tmpdir(), 'pipe-clean-incremental-'));
  afterAll(() => {
    ws.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it(`equals a full clean after each of ${STEPS} random steps (seed ${SEED})`, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const uploads = new Set<string>();
    let made = 0;
    const write = (path: string, content: Buffer | string) => {
      // Replace by rename, as docs/data-tables.md asks: data/raw holds hard links to uploads.
      const abs = join(ws.root, 'uploads', path);
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(`${abs}.tmp`, content);
      renameSync(`${abs}.tmp`, abs);
      uploads.add(path);
    };
    const sessionIds: string[] = [];
    const webappUpload = (): { name: string; content: Buffer } => {
      const doc = structuredClone(pick(webappDocs));
      // A new session, or one already used (duplicate or conflict, depending on the rest).
      const session =
        sessionIds.length > 0 && random() < 0.3 ? pick(sessionIds) : `s-${SEED}-${made++}`;
      sessionIds.push(session);
      doc.session_id = session;
      doc.user_id = pick(['u-a', 'u-b', 'u-c', doc.user_id]);
      doc.events = doc.events.slice(0, 8 + Math.floor(random() * doc.events.length));
      // Mostly named for its session; sometimes for another (the name is only a hint).
      const named = random() < 0.8 ? session : `s-${SEED}-${made++}`;
      const json = Buffer.from(JSON.stringify(doc));
      return random() < 0.3
        ? { name: `${named}.session.json.gz`, content: gzipSync(json) }
        : { name: `${named}.session.json`, content: json };
    };
    const aaltoUpload = (): { name: string; content: string } => {
      const lines = pick(aaltoLines);
      const data = lines.slice(1).filter((l) => l !== '');
      const section = pick(data).split('\t')[1];
      const rows = data.filter((l) => l.split('\t')[1] === section);
      const from = Math.floor(random() * rows.length);
      const part = rows.slice(from, from + 3 + Math.floor(random() * 30));
      // Few participants, so files share participants and sections; the name may say another.
      const participant = pick(['9001', '9002', '9003', rows[0]!.split('\t')[0]!]);
      const named = random() < 0.7 ? participant : `90${made++}`;
      const body = part.map((l) => l.replace(/^[^\t]*/, participant));
      return { name: `${named}_keystrokes.txt`, content: `${[lines[0], ...body].join('\n')}\n` };
    };
    const operations: Record<string, () => string> = {
      'add web-app sample': () => {
        const name = pick(webappSamples);
        const path = `w${Math.floor(random() * 3)}/${name}`;
        write(path, readSample('webapp', name));
        return path;
      },
      'add made web-app upload': () => {
        const u = webappUpload();
        write(`w/${u.name}`, u.content);
        return `w/${u.name}`;
      },
      'add Aalto sample': () => {
        const name = pick(aaltoSamples);
        const path = random() < 0.5 ? `a/${name}` : `a${made++}/${name}`;
        write(path, readSample('aalto', name));
        return path;
      },
      'add made Aalto file': () => {
        const u = aaltoUpload();
        write(`a/${u.name}`, u.content);
        return `a/${u.name}`;
      },
      replace: () => {
        if (uploads.size === 0) return 'nothing to replace';
        const path = pick([...uploads].sort());
        write(
          path,
          path.endsWith('_keystrokes.txt') ? aaltoUpload().content : webappUpload().content,
        );
        return path;
      },
      delete: () => {
        if (uploads.size === 0) return 'nothing to delete';
        const path = pick([...uploads].sort());
        rmSync(join(ws.root, 'uploads', path));
        uploads.delete(path);
        return path;
      },
    };
    const names = Object.keys(operations);
    const weights = [2, 3, 1, 3, 2, 2];
    const chooseOperation = () => {
      let r = random() * weights.reduce((a, b) => a + b, 0);
      for (const [i, w] of weights.entries()) {
        r -= w;
        if (r < 0) return names[i]!;
      }
      return names[0]!;
    };

    let previous: string | undefined;
    let incrementalRuns = 0;
    for (let step = 1; step <= STEPS; step++) {
      const done: string[] = [];
      const schemaPath = join(ws.root, 'config/upload.schema.json');
      const schemaBefore = readFileSync(schemaPath, 'utf8');
      if (step === SCHEMA_STEP) {
        // Same meaning, other bytes: clean must rebuild from scratch all the same.
        writeFileSync(schemaPath, `${schemaBefore.trimEnd()}\n\n`);
        done.push('schema edited');
      }
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
        const op = step === 1 ? 'add Aalto sample' : chooseOperation();
        done.push(`${op} ${operations[op]!()}`);
      }
      const rawBefore = snapshot(join(ws.root, 'data/raw'));
      expect(runStage(ws.root, { ...STAGES.download, env: ENV }).status).toBe(0);
      const deps = {
        'data/raw': changes(rawBefore, snapshot(join(ws.root, 'data/raw')), 'data/raw/'),
        'config/upload.schema.json':
          step === SCHEMA_STEP
            ? { added: [], modified: ['config/upload.schema.json'], deleted: [] }
            : { added: [], modified: [], deleted: [] },
      };
      const where = `seed ${SEED} step ${step}: ${done.join('; ')}`;
      const before = previous === undefined ? undefined : snapshot(previous);
      const inc = runClean(
        ws.root,
        scratch,
        ENV,
        previous === undefined ? undefined : { previous, deps },
      );
      expect(inc.status, `${where}\n${inc.stderr}`).toBe(0);
      const full = runClean(ws.root, scratch, ENV);
      expect(full.status, `${where}\n${full.stderr}`).toBe(0);
      if (previous !== undefined && step !== SCHEMA_STEP) {
        expect(inc.stdout, where).toMatch(/built \d+ changed of \d+ parts/);
        incrementalRuns++;
      }
      if (step === SCHEMA_STEP) expect(inc.stdout, where).toMatch(/built all \d+ parts/);
      if (previous !== undefined && before !== undefined)
        expect(unchangedSince(previous, before), `${where}: previous outputs written into`).toBe(
          true,
        );

      for (const out of [inc.out, full.out])
        expect(await layoutProblems(out), `${where} (${out})`).toEqual([]);
      for (const d of await compareTables(full.out, inc.out)) {
        expect(d.rowsB, `${where}: ${d.table} rows`).toBe(d.rowsA);
        expect(
          [d.onlyA, d.onlyB],
          `${where}: ${d.table} rows only in full / only in incremental`,
        ).toEqual([0, 0]);
      }
      expect(readFileSync(join(inc.out, 'summary.json'), 'utf8'), where).toBe(
        readFileSync(join(full.out, 'summary.json'), 'utf8'),
      );
      expect(inc.metrics, where).toEqual(full.metrics);
      if (previous !== undefined) rmSync(dirname(previous), { recursive: true, force: true });
      rmSync(dirname(full.out), { recursive: true, force: true });
      previous = inc.out;
    }
    expect(incrementalRuns).toBe(STEPS - 2); // every step but the first and the schema change
  }, 900_000);
});
