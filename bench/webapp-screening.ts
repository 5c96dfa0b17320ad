// Stage clean's web-app screening alone (stages/lib/webapp-screening.ts: read, gunzip, JSON.parse,
// schema check, unknown-field count, staging), timed as wall seconds and as CPU seconds of the
// whole process (the worker threads included). On a shared, loaded machine the CPU seconds say
// more than the wall: a thread that waits for a core does not count.
//
//   node --import tsx bench/webapp-screening.ts bench/work/ws-webapp-1000000 [--stages DIR] [--label L] [--runs N]
//
// --stages DIR screens with another version's stages/ (e.g. a clone of main at DIR/..), so that
// before and after run on the same data/raw in one sitting. Prints one markdown row per run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readRawInput } from '../stages/lib/raw-input.js';
import type { screenWebappUploads as Screen } from '../stages/lib/webapp-screening.js';

const repo = fileURLToPath(new URL('../', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stages: { type: 'string' },
    label: { type: 'string', default: 'this checkout' },
    runs: { type: 'string', default: '1' },
  },
});
const ws = resolve(positionals[0] ?? 'bench/work/ws-webapp-1000000');
const stages = resolve(values.stages ?? join(repo, 'stages'));
const { screenWebappUploads } = (await import(
  pathToFileURL(join(stages, 'lib/webapp-screening.ts')).href
)) as { screenWebappUploads: typeof Screen };

for (let run = 0; run < Number(values.runs); run++) {
  const staging = mkdtempSync(join(tmpdir(), 'screening-bench-'));
  try {
    const raw = readRawInput(join(ws, 'data/raw'), staging);
    if (!raw.ok) throw new Error(raw.error.detail);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const result = await screenWebappUploads(
      join(ws, 'data/raw'),
      raw.value.webapp,
      join(ws, 'config/upload.schema.json'),
      staging,
    );
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    process.stdout.write(
      `| ${values.label} | ${ws.split('/').pop()} | ${raw.value.webapp.length} | ${result.events} | ${wall.toFixed(2)} | ` +
        `${((used.user + used.system) / 1e6).toFixed(2)} | ${new Date().toISOString().slice(0, 16)} |\n`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
