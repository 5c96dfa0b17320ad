// The report's comparison end to end with the real CLI on the repo's samples and a file:// remote:
//
//   pipe build report          -> "no previous version" (the remote is empty)
//   pipe push --set-current    -> version A
//   params: features.sequence_length 50 -> 40
//   pipe build report          -> "Compared with version A": only features changed
//
// Expected file counts come from an independent walk: the features files on disk hashed here with
// node:crypto against version A's file list (`pipe versions show --json`); record counts from
// pipeline.lock before and after. The upstream stages did not rerun, so their files are the same.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportSummary } from '../stages/report/summary.js';
import { haveChromium, openReportPage } from './report-chromium.js';
import { repoRoot } from './report-run.js';

const bin = join(repoRoot, 'bin/pipe.js');
type Lock = { stages: Record<string, { metrics?: { records?: Record<string, number> } }> };

describe('the report compares with the version published before it', () => {
  let ws: string;
  let store: string;
  const pipe = (...args: string[]) => {
    const r = spawnSync('node', [bin, '-C', ws, ...args], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', PIPE_REMOTE: `file://${store}` },
    });
    expect(r.status, `pipe ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const summary = () =>
    JSON.parse(readFileSync(join(ws, 'reports/summary.json'), 'utf8')) as ReportSummary;
  const lock = () => JSON.parse(readFileSync(join(ws, 'pipeline.lock'), 'utf8')) as Lock;

  beforeAll(() => {
    ws = mkdtempSync(join(tmpdir(), 'pipe-report-compare-'));
    store = mkdtempSync(join(tmpdir(), 'pipe-store-'));
    for (const part of [
      'package.json',
      'pipeline.yaml',
      'params.yaml',
      'config',
      'samples',
      'stages',
      'lib',
    ]) {
      cpSync(join(repoRoot, part), join(ws, part), { recursive: true });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(ws, 'node_modules'));
  });
  afterAll(() => {
    rmSync(ws, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  });

  it('says there is no previous version, then after a push and a param change shows what changed', () => {
    pipe('build', 'report');
    expect(summary().version_diff).toEqual({ status: 'no-previous', remote: `file://${store}` });
    expect(readFileSync(join(ws, 'reports/index.html'), 'utf8')).toContain(
      'No previous version to compare with: none is published on',
    );

    const a = (JSON.parse(pipe('push', '--json', '--set-current')) as { versionId: string })
      .versionId;
    const before = lock();
    const shown = JSON.parse(pipe('versions', 'show', a, '--json')) as {
      manifest: { stages: Record<string, { files: { path: string; sha256: string }[] }> };
    };
    writeFileSync(
      join(ws, 'params.yaml'),
      readFileSync(join(ws, 'params.yaml'), 'utf8').replace(
        'sequence_length: 50',
        'sequence_length: 40',
      ),
    );
    pipe('build', 'report');
    const after = lock();

    // Independently: version A's features files against the bytes on disk now.
    const then = new Map(shown.manifest.stages.features!.files.map((f) => [f.path, f.sha256]));
    const now = new Map(
      walk(join(ws, 'data/features')).map((p) => [
        relative(ws, p),
        createHash('sha256').update(readFileSync(p)).digest('hex'),
      ]),
    );
    const added = [...now.keys()].filter((p) => !then.has(p)).length;
    const removed = [...then.keys()].filter((p) => !now.has(p)).length;
    const changed = [...now.keys()].filter((p) => then.has(p) && then.get(p) !== now.get(p)).length;
    expect(changed).toBeGreaterThan(0); // M is in summary.json and shapes every sequence

    const d = summary().version_diff;
    if (d.status !== 'compared') throw new Error(`expected a comparison, got ${JSON.stringify(d)}`);
    expect(d.previous.id).toBe(a);
    const features = d.stages.find((s) => s.stage === 'features')!;
    expect(features).toMatchObject({
      status: 'changed',
      added,
      removed,
      changed,
      unchanged: now.size - added - changed,
    });
    const counts = (l: Lock) => l.stages.features!.metrics!.records!;
    expect(features.records).toEqual(
      Object.keys(counts(after)).map((name) => ({
        name,
        before: counts(before)[name],
        after: counts(after)[name],
      })),
    );
    for (const name of ['download', 'clean', 'keypairs']) {
      const s = d.stages.find((x) => x.stage === name)!;
      expect(s, name).toMatchObject({
        status: 'same',
        added: 0,
        removed: 0,
        changed: 0,
        unchanged: shown.manifest.stages[name]!.files.length,
      });
    }
    expect(d.stages.map((s) => s.stage)).not.toContain('report');
    expect(readFileSync(join(ws, 'reports/index.html'), 'utf8')).toContain(
      `Compared with version ${a}`,
    );
  }, 240_000);

  it.skipIf(!haveChromium)(
    'still opens cleanly in headless Chromium with the comparison on it',
    async () => {
      const check = await openReportPage(
        join(ws, 'reports/index.html'),
        join(repoRoot, 'test-output/report-compared.png'),
      );
      expect(check.consoleErrors).toEqual([]);
      expect(check.badRequests).toEqual([]);
      for (const c of check.charts) expect(c.marks, `chart ${c.id}`).toBeGreaterThan(0);
    },
  );
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}
