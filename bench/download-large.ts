// Benchmark: stage download alone on the generated keystroke sets, this checkout's stages/ against
// the stages/ of an earlier commit (--before), in the same run, on the same uploads.
//
//   sets/k<N>/<format> ──hard links──▶ ws/samples/<format>   (UPLOADS_URL=file://samples)
//   ws/stages         this checkout's download         } each run as the runner runs it: node --import
//   ws/stages-before  `git archive <before> stages`     } tsx, PIPE_* env, a fresh temp out, then moved
//   ws/stages-copy    this checkout, links turned off   } to data/raw (what the next run links from)
// "copy" (--impls before,after,copy) is this checkout with file-mirror-thread.ts's `#linking`
// starting false: the path taken when the upload folder is on another filesystem, measured here
// on the same disk so it compares with "after".
// Per implementation: a first run (no data/raw), an unchanged re-run, and a re-run after a few
// uploads changed, were added and deleted upstream (replaced by rename, never written in place:
// the samples are hard links into the shared sets). Reports seconds (wall, node start included)
// and the stage's peak RSS (sampled), the time to delete the last data/raw (copies cost an inode
// each to free, links to the uploads do not), checks both write byte-identical manifest.json files, and
// re-hashes every file of this checkout's data/raw against its manifest (a streamed hash, as the
// earlier stage computed it).
//
// Run:  npx tsc -p tsconfig.json && flock /work/bench.lock node --import tsx bench/download-large.ts
//         [--keystrokes 1000000,10000000] [--formats webapp,aalto] [--before 7d02985] [--impls before,after]
// Needs the sets in bench/work/sets (bench/keystrokes/generate-set.ts); writes
// bench/results/download-large.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  createReadStream,
  linkSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure } from './keystrokes/measure.js';
import { prepareBenchWorkspace } from './keystrokes/workspace.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const work = join(repo, 'bench/work');
const { values } = parseArgs({
  options: {
    keystrokes: { type: 'string', default: '1000000,10000000' },
    formats: { type: 'string', default: 'webapp,aalto' },
    before: { type: 'string', default: '7d02985' },
    impls: { type: 'string', default: 'before,after' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/download-large.ts [--keystrokes N,N] [--formats webapp,aalto] [--before REF] [--impls before,after,copy]\n',
  );
  process.exit(0);
}
const log = (line: string) =>
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
type Impl = 'before' | 'after' | 'copy';
const impls = values.impls.split(',') as Impl[];
const scriptOf: Record<Impl, string> = {
  before: 'stages-before/download.ts',
  after: 'stages/download.ts',
  copy: 'stages-copy/download.ts',
};

interface Run {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakMiB: number;
  readonly metrics: string;
}
interface Row {
  format: string;
  keystrokes: number;
  uploads: number;
  mb: number;
  impl: Impl;
  first: Run;
  unchanged: Run;
  changed: Run;
  deleteSeconds: number;
}

function prepareWorkspace(format: string, size: number): string {
  const ws = join(work, `ws-download-${format}-${size}`);
  prepareBenchWorkspace(repo, ws, join(work, 'sets', `k${size}`, format), format);
  const archive = spawnSync(
    'sh',
    [
      '-c',
      `git -C '${repo}' archive '${values.before}' stages | tar -x -C '${ws}' --transform 's,^stages,stages-before,'`,
    ],
    { encoding: 'utf8' },
  );
  if (archive.status !== 0)
    throw new Error(`git archive ${values.before} failed: ${archive.stderr}`);
  cpSync(join(ws, 'stages'), join(ws, 'stages-copy'), { recursive: true });
  const thread = join(ws, 'stages-copy/lib/file-mirror-thread.ts');
  const source = readFileSync(thread, 'utf8');
  if (!source.includes('#linking = true;'))
    throw new Error(`${thread} no longer has '#linking = true;': update the bench's copy variant`);
  writeFileSync(thread, source.replace('#linking = true;', '#linking = false;'));
  return ws;
}

/** One stage run the way lib/build/runner.ts runs it; on success its out replaces data/raw. */
async function runDownload(ws: string, impl: Impl): Promise<Run> {
  const temp = join(ws, '.pipe-tmp-bench');
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(join(temp, 'out/data'), { recursive: true });
  const env = {
    ...process.env,
    CI: 'true',
    PIPE_WORKSPACE: ws,
    PIPE_STAGE: 'download',
    PIPE_OUTS: JSON.stringify({ 'data/raw': join(temp, 'out/data/raw') }),
    PIPE_METRICS_FILE: join(temp, 'metrics.json'),
  };
  // CPU seconds (user + system, all threads) from GNU time: steadier than wall time on a shared machine.
  const cpuFile = join(temp, 'cpu.txt');
  const m = await measure(
    ws,
    '/usr/bin/time',
    ['-f', '%U %S', '-o', cpuFile, process.execPath, '--import', 'tsx', scriptOf[impl]],
    env,
  );
  if (m.code !== 0) throw new Error(`${impl} download failed (${m.code}): ${m.stderr}`);
  const metrics = readFileSync(join(temp, 'metrics.json'), 'utf8');
  const cpuSeconds = readFileSync(cpuFile, 'utf8')
    .trim()
    .split(/\s+/)
    .reduce((n, t) => n + Number(t), 0);
  rmSync(join(ws, 'data/raw'), { recursive: true, force: true });
  mkdirSync(join(ws, 'data'), { recursive: true });
  renameSync(join(temp, 'out/data/raw'), join(ws, 'data/raw'));
  rmSync(temp, { recursive: true, force: true });
  return { seconds: m.seconds, cpuSeconds, peakMiB: m.peakTreeRss / 2 ** 20, metrics };
}

/** 10 uploads changed, 5 added, 5 deleted upstream, all by rename or unlink; returns the undo. */
function changeUploads(folder: string, set: string): () => void {
  const names = readdirSync(folder).sort();
  const pick = (k: number) => names[Math.floor((names.length * k) / 23)]!;
  const changed = Array.from({ length: 10 }, (_, k) => pick(k));
  const deleted = Array.from({ length: 5 }, (_, k) => pick(k + 11));
  const added = Array.from(
    { length: 5 },
    (_, k) => `bench-added-${k}${pick(k).endsWith('.txt') ? '_keystrokes.txt' : '.session.json'}`,
  );
  for (const name of changed) {
    writeFileSync(
      join(folder, `${name}.tmp`),
      Buffer.concat([readFileSync(join(folder, name)), Buffer.from('\n')]),
    );
    renameSync(join(folder, `${name}.tmp`), join(folder, name));
  }
  for (const name of deleted) unlinkSync(join(folder, name));
  for (const [k, name] of added.entries())
    copyFileSync(join(folder, pick(k + 17)), join(folder, name));
  return () => {
    for (const name of [...changed, ...deleted]) {
      rmSync(join(folder, name), { force: true });
      linkSync(join(set, name), join(folder, name));
    }
    for (const name of added) unlinkSync(join(folder, name));
  };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file of data/raw hashes to its manifest entry, and nothing else is there. */
async function checkRaw(ws: string): Promise<string | undefined> {
  const raw = join(ws, 'data/raw');
  const manifest = JSON.parse(readFileSync(join(raw, 'manifest.json'), 'utf8')) as {
    files: { path: string; size: number; sha256: string }[];
  };
  const onDisk =
    readdirSync(raw, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length - 1;
  if (onDisk !== manifest.files.length)
    return `data/raw holds ${onDisk} uploads, the manifest lists ${manifest.files.length}`;
  for (const file of manifest.files)
    if ((await sha256File(join(raw, file.path))) !== file.sha256)
      return `data/raw/${file.path} does not hash to its manifest entry`;
  return undefined;
}

const rows: Row[] = [];
const checks: string[] = [];
for (const size of values.keystrokes.split(',').map(Number)) {
  for (const format of values.formats.split(',')) {
    const ws = prepareWorkspace(format, size);
    const folder = join(ws, 'samples', format);
    const set = join(work, 'sets', `k${size}`, format);
    const names = readdirSync(folder);
    const mb = names.reduce((n, name) => n + statSync(join(folder, name)).size, 0) / 1e6;
    const manifests: Partial<Record<Impl, { first: string; changed: string }>> = {};
    for (const impl of impls) {
      log(`${format} ${size} ${impl}: first run ...`);
      const first = await runDownload(ws, impl);
      const firstManifest = readFileSync(join(ws, 'data/raw/manifest.json'), 'utf8');
      log(`${format} ${size} ${impl}: first ${first.seconds.toFixed(1)} s; unchanged re-run ...`);
      const unchanged = await runDownload(ws, impl);
      const undo = changeUploads(folder, set);
      const changed = await runDownload(ws, impl);
      manifests[impl] = {
        first: firstManifest,
        changed: readFileSync(join(ws, 'data/raw/manifest.json'), 'utf8'),
      };
      if (impl !== 'before')
        checks.push(
          `${format} ${size}: data/raw after the change run ${(await checkRaw(ws)) ?? `(${impl}) hashes to its manifest, file by file`}`,
        );
      undo();
      const deleting = performance.now();
      rmSync(join(ws, 'data'), { recursive: true, force: true });
      const deleteSeconds = (performance.now() - deleting) / 1000;
      log(
        `${format} ${size} ${impl}: unchanged ${unchanged.seconds.toFixed(1)} s, changed ${changed.seconds.toFixed(1)} s ${changed.metrics}`,
      );
      rows.push({
        format,
        keystrokes: size,
        uploads: names.length,
        mb,
        impl,
        first,
        unchanged,
        changed,
        deleteSeconds,
      });
    }
    for (const impl of impls.filter((i) => i !== 'before' && manifests.before !== undefined)) {
      const same = (k: 'first' | 'changed') => manifests.before![k] === manifests[impl]![k];
      checks.push(
        `${format} ${size}: manifest.json byte-identical before/${impl}: first run ${same('first') ? 'yes' : 'NO'}, change run ${same('changed') ? 'yes' : 'NO'}`,
      );
    }
    rmSync(ws, { recursive: true, force: true });
  }
}

const fmt = (r: Run) => `${r.seconds.toFixed(1)} (${r.cpuSeconds.toFixed(1)})`;
const lines = [
  '# Stage download on the generated keystroke sets',
  '',
  `Made by \`bench/download-large.ts\` on ${new Date().toISOString().slice(0, 16)} UTC, ${availableParallelism()} cores, load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}.`,
  `"before" is stages/ at ${values.before}; "after" is this checkout. Seconds: the stage process's wall time, node and tsx start-up`,
  'included, and in parentheses its CPU time (user + system, all threads; steadier on a shared machine). Peak RSS sampled every',
  '100 ms. "changed": 10 uploads changed, 5 added, 5 deleted upstream. "delete s": `rm -rf data` after the changed run (the',
  'cost of dropping the output later: the runner deletes each replaced data/raw). "copy": this checkout with hard links from',
  'the upload folder turned off (the path taken for an upload folder on another filesystem).',
  '',
  '| format | keystrokes | uploads | MB | stages | first run s | unchanged re-run s | changed re-run s | fetched, unchanged, deleted (changed run) | delete s | peak RSS MiB |',
  '|---|---:|---:|---:|---|---:|---:|---:|---|---:|---:|',
  ...rows.map((r) => {
    const m = (JSON.parse(r.changed.metrics) as { records: Record<string, number> }).records;
    const peak = Math.max(r.first.peakMiB, r.unchanged.peakMiB, r.changed.peakMiB);
    return `| ${r.format} | ${r.keystrokes} | ${r.uploads} | ${r.mb.toFixed(0)} | ${r.impl} | ${fmt(r.first)} | ${fmt(r.unchanged)} | ${fmt(r.changed)} | ${m.fetched}, ${m.reused}, ${m.deleted} | ${r.deleteSeconds.toFixed(1)} | ${peak.toFixed(0)} |`;
  }),
  '',
  ...checks.map((c) => `- ${c}`),
  '',
];
mkdirSync(join(repo, 'bench/results'), { recursive: true });
writeFileSync(join(repo, 'bench/results/download-large.md'), lines.join('\n'));
process.stdout.write(lines.join('\n'));
