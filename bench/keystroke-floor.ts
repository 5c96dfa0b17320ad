// How fast could `pipe build features` be on this machine at all? Times the parts of the work no
// version of this pipeline can skip, each on its own, against a workspace that keystroke-bench.ts
// built (its data/raw and its Parquet outputs): evidence for how far issue 3's "10x pandas" target
// is from what the machine allows. One run per cell; run it alone (other load skews every cell).
// Peer: the pandas compute time in keystrokes.json (bench/keystroke-bench.ts), divided by 10.
//
// Run:  npm run bench:floor [-- --keystrokes N] [--formats webapp,aalto]   (default 10M)
//   or: npx tsc -p tsconfig.json && npx tsx bench/keystroke-floor.ts [--keystrokes N]
//   after keystroke-bench.ts at the same N with the same BENCH_WORK and BENCH_RESULTS (it reads
//   the workspaces ws-<format>-<N> under BENCH_WORK and keystrokes.json under BENCH_RESULTS);
//   writes keystroke-floor.md under BENCH_RESULTS (bench/paths.ts).
//
// The parts (each a lower bound of a stage's own work, not the stage):
//   start-up   4 x `node --import tsx` loading @duckdb/node-api: one process per stage.
//   hash       sha256 of every upload once (lib/observe/hash.ts, no cache): the runner must know the
//              content of download's dep; on a first build nothing is cached.
//   link       `cp -al` of the uploads folder: download's own floor from a file:// folder
//              (one link(2) per upload; it also hashes, counted above once, not twice).
//   parse      web app: JSON.parse of every upload on this thread (the least a JSON reader does;
//              halved for two cores); Aalto: reading every file's bytes (no parsing at all).
//   write      DuckDB COPY of the built keystrokes, keypairs and sequences tables to zstd
//              Parquet, unsorted and on both threads: the least each of clean, keypairs and
//              features writes, with no cleaning, pairing or padding.
//   sort       the same keystrokes COPY ordered by session and press time (clean's output order).
// The sum is a floor: the real stages also clean, check their inputs and pair.
// And for the no-op target (< 1 s): one stat of every upload and of every data/raw file (the uploads
// folder is download's dep, data/raw its out), by `find -printf` (C, one process; halved for two
// cores): what a build that trusts no folder mtime must do before it can say "nothing changed".
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { hashPath as HashPath } from '../lib/observe/hash-path.js';
import type { noHashCache as NoHashCache } from '../lib/observe/types.js';
import { openDuckDb, sqlString } from '../stages/duckdb.js';
import { repo, resultPath, workPath } from './paths.js';
import { tableRelation } from './keystrokes/table-relation.js';

const { values } = parseArgs({
  options: {
    keystrokes: { type: 'string', default: '10000000' },
    formats: { type: 'string', default: 'webapp,aalto' },
  },
});
const results = JSON.parse(readFileSync(resultPath('keystrokes.json'), 'utf8')) as {
  runs: { format: string; keystrokes: number; pandas?: { computeSeconds?: number } }[];
};

const seconds = (since: number) => (performance.now() - since) / 1000;
async function timed(work: () => unknown): Promise<number> {
  const t = performance.now();
  await work();
  return seconds(t);
}

// The compiled runner (npx tsc -p tsconfig.json): its hashing workers load compiled modules.
const { hashPath } = (await import(join(repo, 'dist/lib/observe/hash-path.js'))) as {
  hashPath: typeof HashPath;
};
const { noHashCache } = (await import(join(repo, 'dist/lib/observe/types.js'))) as {
  noHashCache: typeof NoHashCache;
};

const rows: string[] = [];
for (const format of values.formats!.split(',')) {
  const ws = workPath(`ws-${format}-${values.keystrokes}`);
  const raw = join(ws, 'data/raw', format);
  const files = readdirSync(raw).map((f) => join(raw, f));
  const scratch = mkdtempSync(join(tmpdir(), 'floor-'));
  const startup = await timed(() => {
    for (let i = 0; i < 4; i++)
      spawnSync('node', ['--import', 'tsx', '-e', "await import('@duckdb/node-api')"], {
        cwd: repo,
      });
  });
  const hash = await timed(() => hashPath(ws, `data/raw/${format}`, noHashCache));
  const link = await timed(() => spawnSync('cp', ['-al', raw, join(scratch, 'linked')]));
  const parse =
    (await timed(() => {
      for (const f of files) {
        const bytes = readFileSync(f);
        if (format === 'webapp') JSON.parse(bytes.toString('utf8'));
      }
    })) / 2;
  const stats =
    (await timed(() =>
      spawnSync(
        'find',
        [join(ws, 'samples', format), raw, '-type', 'f', '-printf', '%s %T@ %i\n'],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      ),
    )) / 2;
  const db = await openDuckDb({ memoryLimit: '1200MB', threads: 2 });
  const copy = (table: string, order = '') =>
    timed(() =>
      db.run(
        `COPY (SELECT * FROM ${tableRelation(ws, table)} ${order}) TO ${sqlString(join(scratch, 'out.parquet'))} (FORMAT parquet, COMPRESSION zstd)`,
      ),
    );
  const write =
    (await copy('data/clean/keystrokes')) +
    (await copy('data/keypairs/keypairs')) +
    (await copy('data/features/sequences'));
  const sort = await copy(
    'data/clean/keystrokes',
    'ORDER BY source, user_id, session_id, press_ms, source_line',
  );
  db.close();
  rmSync(scratch, { recursive: true, force: true });
  const floor = startup + hash + link + parse + write + sort;
  const pandas = results.runs.find(
    (r) => r.format === format && r.keystrokes >= Number(values.keystrokes) * 0.99,
  )?.pandas?.computeSeconds;
  const target = pandas === undefined ? 'n/a' : `${(pandas / 10).toFixed(1)} s`;
  const f = (s: number) => s.toFixed(1);
  rows.push(
    `| ${format} | ${files.length.toLocaleString('en-US')} | ${f(startup)} | ${f(hash)} | ${f(link)} | ${f(parse)} | ${f(write)} | ${f(sort)} | **${f(floor)}** | ${target} | ${stats.toFixed(2)} |`,
  );
  process.stdout.write(`${rows.at(-1)}\n`);
}

const out = resultPath('keystroke-floor.md');
writeFileSync(
  out,
  `# The floor under \`pipe build features\` at ${Number(values.keystrokes).toLocaleString('en-US')} keystrokes

Generated by \`node --import tsx bench/keystroke-floor.ts --keystrokes ${values.keystrokes}\` on ${new Date().toISOString().slice(0, 16)}Z, 2 cores
(shared machine). Seconds; what each column times is in the script's header. "10x target" is the pandas
compute time of bench/results/keystrokes.md divided by 10: the whole build would have to finish in it.

| format | uploads | start-up (4 stages) | hash uploads once | link uploads | parse (2 cores) | write 3 tables | sort keystrokes | floor (sum) | 10x target | no-op floor: stat uploads + data/raw (2 cores) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`,
);
process.stdout.write(`wrote ${out}\n`);
