// The repository's keystroke pipeline, built once in a temporary copy of the repository through
// the real CLI: for every stage, a comment added to ANY file of its code (its script's import
// closure, the files it names by `new URL('...', import.meta.url)` and the SQL beside it) makes
// that stage stale with a reason naming the file, and no stage above it goes stale.
//
// The expected closure is found here by an independent method, TypeScript's own reading of the
// sources: `ts.preProcessFile` for imports (static, dynamic, type-only, re-exports) and the
// syntax tree for `new URL('<literal>', ...)`, following relative specifiers (`.js` -> `.ts`
// when only the `.ts` exists). A scanner in pipe that missed a file would leave its stage fresh
// after that file's edit, and this test would name the file.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepoPipeline, runPipeIn } from './helpers/repo-copy.js';

const STAGES = ['download', 'clean', 'keypairs', 'features', 'report'] as const;

let root: string;

const pipe = (...args: string[]) => runPipeIn(root, ...args);

type Reason = { kind: string; path?: string; stage?: string };

function reasonsNow(): Map<string, Reason[]> {
  const r = pipe('status', '--json');
  expect(r.status, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as { stages: { name: string; reasons: Reason[] }[] };
  return new Map(doc.stages.map((s) => [s.name, s.reasons]));
}

/** Relative module specifiers and `new URL` literals of one source, read by TypeScript. */
function referencesByTypeScript(file: string, text: string): { modules: string[]; urls: string[] } {
  const modules = ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((s) => s.startsWith('./') || s.startsWith('../'));
  const urls: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isNewExpression(node) &&
      ts.isIdentifier(node.expression) &&
      node.expression.text === 'URL' &&
      node.arguments?.[0] !== undefined &&
      ts.isStringLiteralLike(node.arguments[0])
    )
      urls.push(node.arguments[0].text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return { modules, urls };
}

/** The stage's code as TypeScript sees it: workspace-relative paths, sorted. */
function expectedCode(script: string): string[] {
  const found = new Set<string>();
  const queue = [join(root, script)];
  while (queue.length > 0) {
    const abs = queue.pop()!;
    const rel = relative(root, abs);
    if (found.has(rel)) continue;
    found.add(rel);
    if (!/\.(ts|mjs|js)$/.test(abs)) continue;
    const { modules, urls } = referencesByTypeScript(abs, readFileSync(abs, 'utf8'));
    for (const m of modules) {
      const target = join(dirname(abs), m);
      queue.push(existsSync(target) ? target : target.replace(/\.js$/, '.ts'));
    }
    for (const u of urls) {
      const target = fileURLToPath(new URL(u, pathToFileURL(abs)));
      if (existsSync(target) && statSync(target).isFile()) queue.push(target);
    }
  }
  const dir = posix.dirname(script);
  const stem = posix.basename(script).replace(/\.ts$/, '');
  for (const name of readdirSync(join(root, dir))) {
    if (name === `${stem}.sql` || (name.startsWith(`${stem}.`) && name.endsWith('.sql')))
      found.add(posix.join(dir, name));
  }
  return [...found].sort();
}

/** The upstream stages of each stage, from pipeline.yaml's data deps (download first). */
const UPSTREAM: Record<(typeof STAGES)[number], readonly string[]> = {
  download: [],
  clean: ['download'],
  keypairs: ['download', 'clean'],
  features: ['download', 'clean', 'keypairs'],
  report: ['download', 'clean', 'keypairs', 'features'],
};

beforeAll(() => {
  root = copyRepoPipeline('pipe-codedeps-');
  const built = pipe('build', '--no-remote-cache');
  expect(built.status, `${built.stderr}\n${built.stdout.slice(-3000)}`).toBe(0);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the keystroke pipeline's code deps", () => {
  const scripts = Object.fromEntries(STAGES.map((s) => [s, `stages/${s}.ts`]));

  it('are recorded in the lock exactly as TypeScript reads the imports', () => {
    const lock = JSON.parse(readFileSync(join(root, 'pipeline.lock'), 'utf8')) as {
      stages: Record<string, { cmd: Record<string, string> }>;
    };
    for (const stage of STAGES) {
      expect(Object.keys(lock.stages[stage]!.cmd).sort(), stage).toEqual(
        expectedCode(scripts[stage]!),
      );
    }
    // The files the hand-written deps used to stand for are among them.
    expect(expectedCode('stages/clean.ts')).toEqual(
      expect.arrayContaining([
        'stages/duckdb.ts',
        'stages/shared/webapp-screen-worker.ts',
        'stages/clean.aalto-batch.sql',
        'lib/stage-api/context.ts',
      ]),
    );
    expect(expectedCode('stages/download.ts')).toContain('stages/shared/file-mirror-thread.ts');
  });

  it('a comment in any file of a stage makes that stage stale naming it, and none above it', () => {
    expect([...reasonsNow().values()].every((r) => r.length === 0)).toBe(true);
    const code = new Map(STAGES.map((s) => [s, new Set(expectedCode(scripts[s]!))]));
    const files = [...new Set([...code.values()].flatMap((s) => [...s]))].sort();
    expect(files.length).toBeGreaterThan(40); // 45 since the stage API reaches only its own modules
    // Files that belong to the same stages are edited together (one status each batch, not one
    // per file): every edited file must still be named, and the stages they do not belong to
    // are the same for the whole batch, so "none above it" is asked of each file.
    const batches = new Map<string, string[]>();
    for (const file of files) {
      const owners = STAGES.filter((s) => code.get(s)!.has(file)).join(',');
      batches.set(owners, [...(batches.get(owners) ?? []), file]);
    }
    for (const [owners, batch] of batches) {
      const before = new Map(batch.map((f) => [f, readFileSync(join(root, f), 'utf8')]));
      for (const [file, text] of before)
        writeFileSync(
          join(root, file),
          `${text}\n${file.endsWith('.sql') ? '--' : '//'} a comment\n`,
        );
      const reasons = reasonsNow();
      for (const stage of STAGES) {
        const own = (reasons.get(stage) ?? []).filter((r) => r.kind !== 'upstream-stale');
        const at = `${stage} after editing ${batch.join(', ')}`;
        if (owners.split(',').includes(stage)) {
          expect(own, at).toEqual(batch.map((path) => ({ kind: 'code-changed', path })));
          for (const up of UPSTREAM[stage].filter((u) => !owners.split(',').includes(u)))
            expect(reasons.get(up), `${up}, above ${at}`).toEqual([]);
        } else {
          expect(own, at).toEqual([]);
        }
      }
      for (const [file, text] of before) writeFileSync(join(root, file), text);
    }
  }, 300_000);
});
