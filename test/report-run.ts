// Runs stages/report.ts the way docs/stage-contract.md says the runner does: `node --import tsx`,
// the workspace as cwd, PIPE_* in the environment, outs pointing at a temporary path.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const script = join(repoRoot, 'stages/report.ts');
// The workspace is a temp folder without node_modules, so tsx is named by its absolute path.
const tsxLoader = join(repoRoot, 'node_modules/tsx/dist/loader.mjs');
/** The compiled CLI, as the runner names it in PIPE_CLI. */
export const pipeCli = join(repoRoot, 'bin/pipe.js');

export function tempWorkspace(): string {
  return mkdtempSync(join(tmpdir(), 'pipe-report-'));
}

export interface StageRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Where the stage was told to write `reports`. */
  readonly outDir: string;
  readonly metricsFile: string;
}

export function runReportStage(workspace: string, env: Record<string, string> = {}): StageRun {
  const outDir = join(workspace, '.pipe-tmp', 'reports');
  const metricsFile = join(workspace, '.pipe-tmp', 'metrics.json');
  mkdirSync(join(workspace, '.pipe-tmp'), { recursive: true });
  const r = spawnSync('node', ['--import', tsxLoader, script], {
    cwd: workspace,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PIPE_WORKSPACE: workspace,
      PIPE_STAGE: 'report',
      PIPE_DEPS: JSON.stringify([
        'data/raw/manifest.json',
        'data/clean',
        'data/keypairs',
        'data/features',
      ]),
      PIPE_OUTS: JSON.stringify({ reports: outDir }),
      PIPE_PARAMS: '{}',
      PIPE_METRICS_FILE: metricsFile,
      PIPE_CLI: pipeCli,
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outDir, metricsFile };
}
