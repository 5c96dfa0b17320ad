// stages/duckdb.ts's sqlPath against the real DuckDB: a file named with glob characters is read as
// itself and nothing else, beside files its name would match as a glob. Each file holds its own
// name, so a row read from the wrong file shows.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { readableByDuckDb, sqlPath, sqlPathList } from '../stages/duckdb.js';

const root = mkdtempSync(join(tmpdir(), 'duckdb-paths-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A folder whose own name is a glob matching its sibling, as a workspace path could be.
const NAMES = [
  '1*_k.txt',
  '1?_k.txt',
  '1[0]2_k.txt',
  '1[_k.txt',
  '1]_k.txt',
  '1{0,2}_k.txt',
  "1'_k.txt",
  '1\\_k.txt',
  '12_k.txt',
  '102_k.txt',
];
for (const dir of ['d1', 'd[1]']) {
  mkdirSync(join(root, dir));
  for (const name of NAMES) writeFileSync(join(root, dir, name), `${dir}/${name}`);
}

async function readText(sql: string): Promise<{ filename: string; content: string }[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT filename, content FROM read_text(${sql}) ORDER BY filename`,
    );
    return reader.getRowObjectsJson() as { filename: string; content: string }[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('sqlPath', () => {
  // Every pair but d[1]/1\_k.txt, which holds a glob character and a backslash (refused below).
  it.each(
    ['d1', 'd[1]']
      .flatMap((dir) => NAMES.map((name) => [dir, name]))
      .filter(([dir, name]) => !(dir === 'd[1]' && name === '1\\_k.txt')),
  )('reads %s/%s as itself, once', async (dir, name) => {
    const path = join(root, dir, name);
    expect(await readText(sqlPath(path))).toEqual([{ filename: path, content: `${dir}/${name}` }]);
  });

  it('reads a list the same way, in the order given', async () => {
    const paths = ['1*_k.txt', '1[0]2_k.txt'].map((n) => join(root, 'd[1]', n));
    expect((await readText(sqlPathList(paths))).map((r) => r.content)).toEqual([
      'd[1]/1*_k.txt',
      'd[1]/1[0]2_k.txt',
    ]);
  });

  it('refuses, naming it, a path with a glob character and a backslash (DuckDB splits at \\)', () => {
    const path = join(root, 'd1', '1\\*_k.txt');
    expect(readableByDuckDb(path)).toBe(false);
    expect(readableByDuckDb(join(root, 'd1', '1\\_k.txt'))).toBe(true);
    expect(() => sqlPath(path)).toThrow(JSON.stringify(path));
  });
});
