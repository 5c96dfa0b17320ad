// `pipe build features` on a copy of the repository's layout (what a fresh clone has: pipeline.yaml,
// params.yaml, config/, stages/, samples/, lib/), through the real built CLI: the default build
// runs offline on the committed samples, and a second build runs nothing.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './helpers/run-stage.js';
import { copyRepoPipeline } from './helpers/repo-copy.js';

const BIN = join(REPO, 'bin/pipe.js');

let root: string;

function build(..._extra: string[]): {
  status: number | null;
  summary: { ran: number; fresh: number; failed: unknown[] };
  stderr: string;
} {
  const r = spawnSync('node', [BIN, 'build', 'features', '--log-format', 'json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
  const summary = events.find((e) => e.type === 'summary') as unknown as {
    ran: number;
    fresh: number;
    failed: unknown[];
  };
  return { status: r.status, summary, stderr: `${r.stderr}\n${r.stdout.slice(-3000)}` };
}

beforeAll(() => {
  root = copyRepoPipeline('pipe-clone-');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('pipe build features on the committed samples', () => {
  it('runs download, clean, keypairs and features offline', () => {
    const first = build();
    expect(first.status, first.stderr).toBe(0);
    expect(first.summary).toMatchObject({ ran: 4, fresh: 0, failed: [] });
    const summary = JSON.parse(readFileSync(join(root, 'data/features/summary.json'), 'utf8'));
    // 20 generated web-app users and 7 Aalto participants, 15 sessions each: all kept.
    expect(summary).toMatchObject({
      M: 50,
      min_sessions_per_user: 15,
      users_kept: 27,
      users_dropped: 0,
      sequences: 405,
    });
  });

  it('does nothing on a second build', () => {
    const lock = readFileSync(join(root, 'pipeline.lock'), 'utf8');
    const written = statSync(join(root, 'data/features/sequences/part-000000.parquet')).mtimeMs;
    const second = build();
    expect(second.status, second.stderr).toBe(0);
    expect(second.summary).toMatchObject({ ran: 0, fresh: 4, failed: [] });
    expect(readFileSync(join(root, 'pipeline.lock'), 'utf8')).toBe(lock);
    expect(statSync(join(root, 'data/features/sequences/part-000000.parquet')).mtimeMs).toBe(
      written,
    );
  });

  it('reruns only features when a features param changes', () => {
    const params = join(root, 'params.yaml');
    writeFileSync(
      params,
      readFileSync(params, 'utf8').replace('sequence_length: 50', 'sequence_length: 20'),
    );
    const run = build();
    expect(run.status, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ ran: 1, fresh: 3, failed: [] });
    expect(
      JSON.parse(readFileSync(join(root, 'data/features/summary.json'), 'utf8')),
    ).toMatchObject({ M: 20, sequences: 405 });
  });

  it('fails the stage, keeping the previous outputs, when a param makes no sense', () => {
    const params = join(root, 'params.yaml');
    const before = readFileSync(join(root, 'data/features/summary.json'), 'utf8');
    writeFileSync(
      params,
      readFileSync(params, 'utf8').replace('sequence_length: 20', 'sequence_length: 0'),
    );
    const run = build();
    expect(run.status).toBe(4);
    expect(run.summary).toMatchObject({ ran: 0, failed: ['features'] });
    expect(readFileSync(join(root, '.pipe/logs/features.log'), 'utf8')).toContain(
      'stage features: param features.sequence_length is 0; it must be a whole number of at least 1 (params.yaml)',
    );
    expect(readFileSync(join(root, 'data/features/summary.json'), 'utf8')).toBe(before);
  });
});
