// A benchmark workspace: the repo's pipeline, params, config, stages and lib copied (so a bench may
// patch them, and so stages run compiled as in a clone: a stage whose closure is reached through a
// symlink runs under tsx), node_modules linked (the stages' packages), and a
// generated set's uploads hard-linked in as samples/<format> (a real folder of real files at no
// disk cost, read by download as file://samples). Shared by every bench/*.ts that builds one.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Makes `ws` afresh from `repo` with the uploads folder `uploads` as samples/<format>. */
export function prepareBenchWorkspace(
  repo: string,
  ws: string,
  uploads: string,
  format: string,
): void {
  rmSync(ws, { recursive: true, force: true });
  mkdirSync(join(ws, 'samples'), { recursive: true });
  for (const item of ['pipeline.yaml', 'params.yaml', 'config', 'stages', 'lib'])
    cpSync(join(repo, item), join(ws, item), { recursive: true });
  rmSync(join(ws, 'config/.env.local'), { force: true });
  symlinkSync(join(repo, 'node_modules'), join(ws, 'node_modules'));
  writeFileSync(join(ws, 'package.json'), '{ "private": true, "type": "module" }\n');
  const linked = spawnSync('cp', ['-al', uploads, join(ws, 'samples', format)], {
    encoding: 'utf8',
  });
  if (linked.status !== 0) throw new Error(`cp -al failed: ${linked.stderr}`);
}
