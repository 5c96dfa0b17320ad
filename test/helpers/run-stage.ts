// Runs one stage script the way docs/stage-contract.md says the runner does, for tests that need
// a stage alone (golden checks, faster than a whole build): PIPE_* variables set, every out
// pointing at a fresh temp path whose parent exists, and on exit 0 each out renamed into place
// (the previous one removed first). On failure nothing is moved and the temp folder is removed.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root: stage scripts run from here, against a temp workspace. */
export const REPO = new URL('../..', import.meta.url).pathname;
// `node --import tsx` resolves tsx from the cwd, and the cwd is the temp workspace: use its URL.
const TSX = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;

export interface StageRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly metrics: unknown;
}

export interface StageSpec {
  readonly stage: string;
  readonly cmd: string;
  readonly deps?: readonly string[];
  readonly outs: readonly string[];
  readonly params?: Readonly<Record<string, unknown>>;
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Run it incrementally as the runner does (docs/stage-contract.md, "Incremental stages"): each
   * temp out path filled with the current outs as hard links, and PIPE_INCREMENTAL naming this
   * file list per dep. Absent: a run from scratch (temp out paths do not exist).
   */
  readonly incremental?: {
    readonly deps: Record<string, { added: string[]; modified: string[]; deleted: string[] }>;
  };
}

/** Hard-links every file under `from` into the same relative path under `to`. */
function linkTree(from: string, to: string): void {
  if (statSync(from).isFile()) {
    linkSync(from, to);
    return;
  }
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) linkTree(join(from, name), join(to, name));
}

export function runStage(workspace: string, spec: StageSpec): StageRun {
  const temp = mkdtempSync(join(workspace, '.pipe-tmp-'));
  const outs = Object.fromEntries(spec.outs.map((out, i) => [out, join(temp, `${i}`, out)]));
  for (const path of Object.values(outs)) mkdirSync(dirname(path), { recursive: true });
  const metricsFile = join(temp, 'metrics.json');
  const incremental: Record<string, string> = {};
  if (spec.incremental !== undefined) {
    for (const [declared, path] of Object.entries(outs)) linkTree(join(workspace, declared), path);
    incremental.PIPE_INCREMENTAL = join(temp, 'incremental.json');
    writeFileSync(incremental.PIPE_INCREMENTAL, JSON.stringify(spec.incremental));
  }
  const result = spawnSync('node', ['--import', TSX, join(REPO, spec.cmd)], {
    cwd: workspace,
    encoding: 'utf8',
    env: {
      ...process.env,
      CI: 'true',
      ...spec.env,
      PIPE_WORKSPACE: workspace,
      PIPE_STAGE: spec.stage,
      PIPE_DEPS: JSON.stringify(spec.deps ?? []),
      PIPE_OUTS: JSON.stringify(outs),
      PIPE_PARAMS: JSON.stringify(spec.params ?? {}),
      PIPE_METRICS_FILE: metricsFile,
      ...incremental,
    },
  });
  let metrics: unknown;
  if (result.status === 0) {
    for (const [declared, path] of Object.entries(outs)) {
      if (!existsSync(path))
        throw new Error(`stage ${spec.stage} exited 0 without writing ${declared}`);
      const final = join(workspace, declared);
      rmSync(final, { recursive: true, force: true });
      mkdirSync(dirname(final), { recursive: true });
      renameSync(path, final);
    }
    if (existsSync(metricsFile)) metrics = JSON.parse(readFileSync(metricsFile, 'utf8'));
  }
  rmSync(temp, { recursive: true, force: true });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, metrics };
}

/** Runs stages in order, stopping at the first that fails; returns every run. */
export function runStages(workspace: string, specs: readonly StageSpec[]): StageRun[] {
  const runs: StageRun[] = [];
  for (const spec of specs) {
    const run = runStage(workspace, spec);
    runs.push(run);
    if (run.status !== 0)
      throw new Error(`stage ${spec.stage} exited ${run.status}:\n${run.stderr}`);
  }
  return runs;
}

/** The four stages as pipeline.yaml declares them, with params.yaml's defaults (overridable). */
export const STAGES = {
  download: { stage: 'download', cmd: 'stages/download.ts', outs: ['data/raw'] },
  clean: {
    stage: 'clean',
    cmd: 'stages/clean.ts',
    outs: ['data/clean'],
    params: {
      'clean.max_hold_ms': 5000,
      'clean.min_keystrokes_per_session': 10,
      'clean.max_upload_bytes': 16777216,
      'clean.max_decompressed_bytes': 16777216,
    },
  },
  keypairs: { stage: 'keypairs', cmd: 'stages/keypairs.ts', outs: ['data/keypairs'] },
  features: {
    stage: 'features',
    cmd: 'stages/features.ts',
    outs: ['data/features'],
    params: { 'features.sequence_length': 50, 'features.min_sessions_per_user': 15 },
  },
} satisfies Record<string, StageSpec>;
