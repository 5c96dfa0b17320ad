// Why lib/pipeline/schema-validator.ts is generated ahead of time: the cost, in a fresh Node
// process, of validating one small pipeline with ajv compiled at run time versus ajv's standalone
// code. Each variant runs as its own child process (as `pipe` does), interleaved, RUNS times;
// the table gives medians. Run: npx tsc -p tsconfig.json && npx tsx bench/schema-validator.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const RUNS = 15;
const repo = fileURLToPath(new URL('..', import.meta.url));
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
mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(new URL('results/schema-validator.md', import.meta.url), table);
process.stdout.write(table);
