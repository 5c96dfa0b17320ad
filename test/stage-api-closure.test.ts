// Every stage imports lib/stage-api/index.ts, so every lib/ file that module reaches is in every
// stage's fingerprint (its import closure, docs/stage-contract.md). This pins that reach to the
// small modules the stage API publishes or truly needs, so editing the tool's internals (a remote
// backend, the runner, the lock writer, the version diff) re-runs no stage.
//
// The repository's keystroke pipeline is built once in a temporary copy through the real CLI;
// the closures are read from the lock it writes (`cmd`, docs/lock-file.md), and staleness after
// an edit from `pipe status --json`. The allowed list is written out by hand from what the stage
// API exports (lib/stage-api/index.ts) and what those modules import, not computed by pipe.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRepoPipeline, runPipeIn } from './helpers/repo-copy.js';

const STAGES = ['download', 'clean', 'keypairs', 'features', 'report'] as const;

/** The lib/ files a stage may reach, each for a reason a stage needs it. */
const ALLOWED_LIB = [
  'lib/stage-api/index.ts', // the one module stages import
  'lib/stage-api/context.ts', // stageContext
  'lib/stage-api/lock-fingerprints.ts', // readLockFingerprints (reads the lock as documented JSON)
  'lib/stage-api/published-version.ts', // compareWithPrevious (asks PIPE_CLI)
  'lib/stage-api/worker-entry.ts', // compiledWorkerEntry (reads PIPE_COMPILED)
  'lib/pipeline/config.ts', // Config
  'lib/pipeline/lock-format.ts', // the lock's documented shape, checked by readLockFingerprints
  'lib/remote/store-url.ts', // parseStoreUrl, describeStoreUrlError (re-exported from util)
  'lib/util/store-url.ts', // the one store-URL parser, also read by build and pipeline
  'lib/remote/remote-path.ts', // the key-prefix and version-ID rules store-url and the diff use
  'lib/util/result.ts', // Result, ok, err
  'lib/util/worker-pool.ts', // mapConcurrent
  'lib/util/sha256.ts', // the Sha256Hex type remote-path names
];

let root: string;

const pipe = (...args: string[]) => runPipeIn(root, ...args);

type Lock = {
  stages: Record<string, { cmd: Record<string, string>; packages?: Record<string, unknown> }>;
};

beforeAll(() => {
  root = copyRepoPipeline('pipe-closure-');
  const built = pipe('build', '--no-remote-cache');
  expect(built.status, `${built.stderr}\n${built.stdout.slice(-3000)}`).toBe(0);
}, 240_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the stage API's reach into lib/", () => {
  it('is only the allowed modules, for every stage of the keystroke pipeline', () => {
    const lock = JSON.parse(readFileSync(join(root, 'pipeline.lock'), 'utf8')) as Lock;
    for (const stage of STAGES) {
      const code = Object.keys(lock.stages[stage]!.cmd);
      const lib = code.filter((p) => p.startsWith('lib/'));
      expect(lib, `${stage} reaches the stage API`).toContain('lib/stage-api/index.ts');
      expect(
        lib.filter((p) => !ALLOWED_LIB.includes(p)),
        `${stage}: lib/ files outside the allowed list`,
      ).toEqual([]);
    }
    // The GCS client is a package of the download stage's own code (stages/shared/upload-source.ts),
    // and of no stage that does not read a bucket itself.
    for (const stage of ['clean', 'keypairs', 'features', 'report'])
      expect(Object.keys(lock.stages[stage]!.packages ?? {}), stage).not.toContain(
        '@google-cloud/storage',
      );
  });

  it('leaves every stage fresh when the GCS backend or the runner changes', () => {
    const stale = () => {
      const r = pipe('status', '--json');
      expect(r.status, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { stages: { name: string; reasons: unknown[] }[] };
      return doc.stages.filter((s) => s.reasons.length > 0).map((s) => s.name);
    };
    expect(stale()).toEqual([]);
    for (const file of ['lib/remote/gcs-remote.ts', 'lib/build/runner.ts'])
      appendFileSync(join(root, file), '\n// an edit to the tool, not to any stage\n');
    expect(stale()).toEqual([]);
    // The same check can fail: an edit to a module the stage API does reach re-runs every stage.
    appendFileSync(join(root, 'lib/util/result.ts'), '\n// an edit the stages do see\n');
    expect(stale().sort()).toEqual([...STAGES].sort());
  });
});
