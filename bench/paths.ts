// Where every bench writes. Work trees (generated uploads, workspaces, scratch stores) go under
// BENCH_WORK (default bench/work/, git-ignored); the table a bench makes goes to BENCH_RESULTS
// (default bench/results/, committed). A smoke run at a small size sets BENCH_RESULTS elsewhere,
// e.g. BENCH_RESULTS=bench/work/smoke, so the committed tables keep their full-size numbers.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this bench belongs to (its bin/pipe.js, dist/, stages/ are what is measured). */
export const repo = fileURLToPath(new URL('../', import.meta.url));

export const benchWork = resolve(process.env.BENCH_WORK ?? join(repo, 'bench/work'));

export const benchResults = resolve(process.env.BENCH_RESULTS ?? join(repo, 'bench/results'));

/** Path of a work folder under BENCH_WORK (not created). */
export function workPath(name: string): string {
  return join(benchWork, name);
}

/** A fresh, uniquely named scratch folder under BENCH_WORK; the caller removes it. */
export function scratchDir(prefix: string): string {
  mkdirSync(benchWork, { recursive: true });
  return mkdtempSync(join(benchWork, prefix));
}

/** Path of a result table under BENCH_RESULTS; the folder is created. */
export function resultPath(name: string): string {
  mkdirSync(benchResults, { recursive: true });
  return join(benchResults, name);
}
