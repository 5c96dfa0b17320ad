// Benchmark: stage clean alone on a generated set, this checkout against a peer checkout (full
// build, alternating, same run), then this checkout's incremental clean after 1 and 100 new
// uploads. The stage scripts run directly with the PIPE_* variables the runner sets
// (docs/stage-contract.md); an incremental run gets the last outputs as hard links and
// PIPE_INCREMENTAL, as the runner gives them.
// Run:  npx tsx bench/clean-parts.ts --peer <checkout> [--keystrokes 10000000]
//       [--formats webapp,aalto] [--rounds 2]
// Writes BENCH_RESULTS/clean-parts.md.
import { spawnSync } from 'node:child_process';
import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSet } from './keystrokes/generate-set.js';
import { measure, type Measured } from './keystrokes/measure.js';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';
import { benchWork, repo, resultPath } from './paths.js';

const { values } = parseArgs({
  options: {
    peer: { type: 'string' },
    keystrokes: { type: 'string', default: '10000000' },
    formats: { type: 'string', default: 'webapp,aalto' },
    rounds: { type: 'string', default: '2' },
    seed: { type: 'string', default: '2018' },
  },
});
if (values.peer === undefined) throw new Error('--peer <checkout> is required');
const peer = resolve(values.peer);
const size = Number(values.keystrokes);
const rounds = Number(values.rounds);
const PARAMS = {
  'clean.max_hold_ms': 5000,
  'clean.min_keystrokes_per_session': 10,
  'clean.max_upload_bytes': 16777216,
  'clean.max_decompressed_bytes': 16777216,
};

function stageEnv(ws: string, stage: string, out: string, extra: Record<string, string> = {}) {
  return {
    ...process.env,
    CI: 'true',
    PIPE_WORKSPACE: ws,
    PIPE_STAGE: stage,
    PIPE_DEPS: '[]',
    PIPE_OUTS: JSON.stringify({ [stage === 'download' ? 'data/raw' : 'data/clean']: out }),
    PIPE_PARAMS: JSON.stringify(stage === 'clean' ? PARAMS : {}),
    PIPE_METRICS_FILE: `${out}.metrics.json`,
    ...extra,
  };
}

function download(ws: string, format: string): void {
  const out = join(ws, '.raw-new');
  rmSync(out, { recursive: true, force: true });
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'stages/download.ts')], {
    cwd: repo,
    env: stageEnv(ws, 'download', out, { UPLOADS_URL: `file://samples/${format}` }),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`download failed: ${r.stderr}`);
  rmSync(join(ws, 'data/raw'), { recursive: true, force: true });
  mkdirSync(join(ws, 'data'), { recursive: true });
  renameSync(out, join(ws, 'data/raw'));
}

async function clean(
  checkout: string,
  ws: string,
  out: string,
  extra: Record<string, string> = {},
) {
  const m = await measure(
    checkout,
    process.execPath,
    ['--import', 'tsx', join(checkout, 'stages/clean.ts')],
    stageEnv(ws, 'clean', out, extra),
  );
  if (m.code !== 0) throw new Error(`clean (${checkout}) failed:\n${m.stderr.slice(-2000)}`);
  return m;
}

function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) linkTree(join(from, e.name), join(to, e.name));
    else linkSync(join(from, e.name), join(to, e.name));
  }
}

/** `n` new uploads made from existing ones under new names and ids (new sessions, participants). */
function addUploads(ws: string, format: string, n: number, tag: string): string[] {
  const dir = join(ws, 'samples', format);
  const names = readdirSync(dir).sort().slice(0, n);
  const added: string[] = [];
  names.forEach((name, i) => {
    const text = readFileSync(join(dir, name), 'utf8');
    if (format === 'webapp') {
      const doc = JSON.parse(text) as { session_id: string };
      const id = `${tag}-${i}-${doc.session_id}`;
      writeFileSync(join(dir, `${id}.session.json`), JSON.stringify({ ...doc, session_id: id }));
      added.push(`data/raw/${id}.session.json`);
    } else {
      const participant = `${tag}${i}`;
      const lines = text
        .split('\n')
        .map((l, k) => (k === 0 || l === '' ? l : l.replace(/^[^\t]*/, participant)));
      writeFileSync(join(dir, `${participant}_keystrokes.txt`), lines.join('\n'));
      added.push(`data/raw/${participant}_keystrokes.txt`);
    }
  });
  return added.sort();
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const mib = (b: number) => `${Math.round(b / 2 ** 20).toLocaleString('en')} MiB`;
const head = (dir: string) =>
  spawnSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' })
    .stdout.trim()
    .slice(0, 72);

const rows: string[] = [];
for (const format of values.formats!.split(',')) {
  ensureSet(join(benchWork, 'sets', `k${size}`), size, Number(values.seed));
  const ws = join(benchWork, `ws-clean-parts-${format}-${size}`);
  prepareBenchWorkspace(repo, ws, join(benchWork, 'sets', `k${size}`, format), format);
  download(ws, format);
  const full: Record<'peer' | 'this', Measured[]> = { peer: [], this: [] };
  let last = '';
  for (let r = 0; r < rounds; r++) {
    for (const who of r % 2 === 0 ? (['peer', 'this'] as const) : (['this', 'peer'] as const)) {
      const out = join(ws, `.out-${who}-${r}`);
      const m = await clean(who === 'peer' ? peer : repo, ws, out);
      full[who].push(m);
      console.log(
        `${format} full ${who} round ${r + 1}: ${m.seconds.toFixed(1)} s, ${mib(m.peakTreeRss)}`,
      );
      if (who === 'this') last = out;
      else rmSync(out, { recursive: true, force: true });
    }
  }
  const inc: string[] = [];
  let previous = last;
  for (const n of [1, 100]) {
    const added = addUploads(ws, format, n, `new${n}x`);
    download(ws, format);
    const out = join(ws, `.out-inc-${n}`);
    linkTree(previous, out);
    const file = join(ws, `.inc-${n}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        deps: {
          'data/raw': { added, modified: ['data/raw/manifest.json'], deleted: [] },
          'config/upload.schema.json': { added: [], modified: [], deleted: [] },
        },
      }),
    );
    const m = await clean(repo, ws, out, { PIPE_INCREMENTAL: file });
    console.log(
      `${format} incremental +${n}: ${m.seconds.toFixed(2)} s, ${mib(m.peakTreeRss)}: ${m.stdout.trim()}`,
    );
    inc.push(`${m.seconds.toFixed(2)} s`);
    previous = out;
  }
  const t = (who: 'peer' | 'this') => median(full[who].map((m) => m.seconds));
  const rss = (who: 'peer' | 'this') => median(full[who].map((m) => m.peakTreeRss));
  rows.push(
    `| ${format} | ${size.toLocaleString('en')} | ${t('peer').toFixed(1)} s | ${t('this').toFixed(1)} s | ${(t('this') / t('peer')).toFixed(2)} | ${mib(rss('peer'))} | ${mib(rss('this'))} | ${inc[0]} | ${inc[1]} |`,
  );
  rmSync(ws, { recursive: true, force: true });
}

const table = [
  '# Stage clean alone: parts (this) against one table (peer), full build, same run; incremental after new uploads',
  '',
  `- peer: \`${head(peer)}\``,
  `- this: \`${head(repo)}\``,
  `- ${rounds} rounds per checkout, alternating; medians. ${availableParallelism()} cores, load average at the end ${loadavg()[0]!.toFixed(2)}`,
  "- incremental: +1 then +100 new uploads (new ids) after this checkout's full build, stage alone (no runner)",
  '- made by `bench/clean-parts.ts`',
  '',
  '| format | keystrokes | full, peer | full, this | ratio | peak RSS, peer | peak RSS, this | incremental +1 | incremental +100 |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows,
  '',
].join('\n');
writeFileSync(resultPath('clean-parts.md'), table);
console.log(table);
