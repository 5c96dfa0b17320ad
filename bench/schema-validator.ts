// Measures why lib/pipeline/schema-validator.ts is generated ahead of time: the cost, in a fresh
// Node process, of validating one small pipeline with the generated standalone code.
// Peer: ajv compiling config/pipeline.schema.json at run time. Each variant runs as its own child
// process (as `pipe` does), interleaved, RUNS times; the table gives medians.
// Run:  npm run bench:schema
//   or: npx tsc -p tsconfig.json && npx tsx bench/schema-validator.ts
// Writes schema-validator.md under BENCH_RESULTS (bench/paths.ts).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { repo, resultPath } from './paths.js';

const RUNS = 15;
const data = JSON.stringify({
  stages: { clean: { cmd: 'stages/clean.ts', deps: ['data/raw'], outs: ['data/clean'] } },
});

// Each script prints the milliseconds from its start to a finished validation.
const variants: Record<string, string> = {
  'ajv at run time (import + compile + validate)': `
    const t = performance.now();
    const { Ajv } = await import('ajv');
    const { readFileSync } = await import('node:fs');
    const v = new Ajv({ allErrors: true, strict: true }).compile(JSON.parse(readFileSync('config/pipeline.schema.json', 'utf8')));
    if (!v(${data})) throw new Error('invalid');
    console.log(performance.now() - t);`,
  'generated standalone code (import + validate)': `
    const t = performance.now();
    const { validate } = await import('./dist/lib/pipeline/schema-validator.js');
    if (!validate(${data})) throw new Error('invalid');
    console.log(performance.now() - t);`,
};

const samples = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < RUNS; i++) {
  for (const [name, script] of Object.entries(variants)) {
    const out = execFileSync('node', ['--input-type=module', '-e', script], {
      cwd: repo,
      encoding: 'utf8',
    });
    samples.get(name)!.push(Number(out.trim()));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows = [...samples].map(
  ([name, xs]) =>
    `| ${name} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`,
);
const [slow, fast] = [...samples.values()].map(median);
const table = [
  `# Schema validation cost per pipe run (${RUNS} runs each, interleaved, ms)`,
  '',
  `Measured ${new Date().toISOString()} on ${process.platform}, Node ${process.version}; machine shared, so read the ratio.`,
  '',
  '| variant | median | min | max |',
  '|---|---|---|---|',
  ...rows,
  '',
  `Saved per run: ${(slow! - fast!).toFixed(1)} ms (ratio ${(slow! / fast!).toFixed(1)}x).`,
  '',
].join('\n');
writeFileSync(resultPath('schema-validator.md'), table);
process.stdout.write(table);
