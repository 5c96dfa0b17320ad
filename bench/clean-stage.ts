// Stage clean alone, as the runner runs it, measured the way bench/keystroke-bench.ts measures a
// build: `pipe build clean --force-stage clean` in a benchmark workspace whose download already
// ran, wall time of the stage (the runner's json events), and the peak summed RSS of the whole
// process tree (pipe + the stage process, bench/keystrokes/measure.ts) and of the stage's subtree.
// --stages DIR first copies DIR over the workspace's stages/ (to measure an older version of the
// stage on the same data/raw, e.g. one `git archive <commit> stages | tar -x` made). Appends one row
// to --out, so before and after sit in one table.
//
//   node --import tsx bench/clean-stage.ts bench/work/ws-webapp-1000000 --label after --out bench/results/cleanweb-clean-stage.md
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure } from './keystrokes/measure.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stages: { type: 'string' },
    label: { type: 'string', default: 'this checkout' },
    out: { type: 'string' },
  },
});
const ws = resolve(positionals[0] ?? 'bench/work/ws-webapp-1000000');
if (values.stages !== undefined) {
  rmSync(join(ws, 'stages'), { recursive: true, force: true });
  cpSync(resolve(values.stages), join(ws, 'stages'), { recursive: true });
}
const isClean = (cmdline: string) => (cmdline.includes('stages/clean.ts') ? 'clean' : undefined);
const env = { ...process.env, CI: 'true' };
const m = await measure(
  ws,
  process.execPath,
  [
    join(repo, 'bin/pipe.js'),
    'build',
    'clean',
    '--force-stage',
    'clean',
    '--no-remote-cache',
    '--log-format',
    'json',
  ],
  env,
  isClean,
);
if (m.code !== 0)
  throw new Error(
    `pipe build clean failed (${m.code}) in ${ws}:\n${m.stdout.slice(-2000)}\n${m.stderr.slice(-2000)}`,
  );
const done = m.stdout
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as { type: string; stage?: string; durationMs?: number })
  .find((e) => e.type === 'stage-done' && e.stage === 'clean');
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
const files = JSON.parse(readFileSync(join(ws, 'data/raw/manifest.json'), 'utf8')) as {
  files: unknown[];
};
const row =
  `| ${values.label} | ${ws.split('/').pop()} | ${files.files.length} | ${((done?.durationMs ?? NaN) / 1000).toFixed(1)} | ` +
  `${mib(m.peakBySubtree.clean ?? 0)} | ${mib(m.peakTreeRss)} | ${new Date().toISOString().slice(0, 16)} |`;
process.stdout.write(`${row}\n`);
if (values.out !== undefined) {
  const header =
    '# Stage clean alone: seconds and peak RSS (bench/clean-stage.ts)\n\n' +
    'Peak RSS is the summed RSS of the process tree, sampled every 100 ms (bench/keystrokes/measure.ts): ' +
    '"clean" is the stage process (DuckDB and the screening worker threads live in it), "tree" adds the pipe runner. ' +
    'Machine: 2 shared cores; 10M runs held /work/bench.lock.\n\n' +
    '| version | workspace | uploads | clean s | clean peak MiB | tree peak MiB | when (UTC) |\n|---|---|---:|---:|---:|---:|---|\n';
  const out = resolve(values.out);
  writeFileSync(out, `${existsSync(out) ? readFileSync(out, 'utf8') : header}${row}\n`);
}
