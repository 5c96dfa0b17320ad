// A temp copy of this repo's keystroke pipeline (pipeline.yaml, params, config, stages, samples and
// lib, node_modules linked), for tests that build the real pipeline and then edit files in it
// without touching the checkout. config/.env.local is dropped so a developer's overrides never leak.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './run-stage.js';

const COPIED = [
  'pipeline.yaml',
  'params.yaml',
  'package.json',
  'config',
  'stages',
  'samples',
  'lib',
];

/**
 * Makes the copy in a new folder named after `prefix` under `parent` (the system's temp folder
 * unless given: a bench puts it under BENCH_WORK); the caller removes it.
 */
export function copyRepoPipeline(prefix: string, parent = tmpdir()): string {
  const root = mkdtempSync(join(parent, prefix));
  for (const path of COPIED) cpSync(join(REPO, path), join(root, path), { recursive: true });
  rmSync(join(root, 'config/.env.local'), { force: true });
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'));
  return root;
}

/** Runs the repo's built `pipe` in `root` (CI=true: plain output), returning what it said. */
export function runPipeIn(
  root: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', [join(REPO, 'bin/pipe.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
