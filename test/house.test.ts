// The layout is part of the design (docs/architecture.md): lib/ folders by concept, arrows that
// only point down, no import circles, and stage scripts that see the tool only through
// lib/stage-api. These tests read the import statements of every source file, so a change that
// breaks the layering fails here with the offending import named.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const lib = join(repo, 'lib');

/**
 * Which folders of lib/ each folder may import (besides itself). Read top to bottom, this is the
 * layering: a folder never imports one that lists it.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  '(lib)': ['commands', 'util'],
  commands: ['versions', 'build', 'remote', 'observe', 'pipeline', 'graph', 'util'],
  'stage-api': ['remote', 'pipeline', 'util'],
  versions: ['build', 'remote', 'observe', 'pipeline', 'graph', 'util'],
  build: ['observe', 'pipeline', 'graph', 'util'],
  remote: ['pipeline', 'util'],
  observe: ['util'],
  pipeline: ['graph', 'util'],
  graph: ['util'],
  util: [],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Relative specifiers a file imports, statically or dynamically, resolved to absolute .ts paths. */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm)];
  return specs.map((m) => resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'));
}

const folderOf = (file: string): string => {
  const rel = relative(lib, file);
  return rel.includes('/') ? rel.split('/')[0]! : '(lib)';
};

describe('lib/ layout', () => {
  const files = sources(lib);

  it('has only the folders the layering names, each with a README saying what it owns', () => {
    const folders = readdirSync(lib).filter((n) => statSync(join(lib, n)).isDirectory());
    expect(folders.sort()).toEqual(
      Object.keys(MAY_IMPORT)
        .filter((f) => f !== '(lib)')
        .sort(),
    );
    for (const folder of folders) {
      const readme = readFileSync(join(lib, folder, 'README.md'), 'utf8');
      expect(readme, `lib/${folder}/README.md`).toMatch(/may import/i);
    }
  });

  it('imports only downwards between folders', () => {
    const wrong: string[] = [];
    for (const file of files) {
      for (const target of localImports(file)) {
        const from = folderOf(file);
        const to = folderOf(target);
        if (from !== to && !MAY_IMPORT[from]!.includes(to)) {
          wrong.push(`${relative(repo, file)} -> ${relative(repo, target)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no import circle, even inside a folder', () => {
    const graph = new Map(files.map((f) => [f, localImports(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') {
          const loop = stack.slice(stack.indexOf(next)).map((f) => relative(lib, f));
          cycles.push(loop.join(' -> '));
        } else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('resolves every relative import to a file that exists', () => {
    const missing = files.flatMap((file) =>
      localImports(file)
        .filter((target) => !existsFile(target))
        .map((target) => `${relative(repo, file)} -> ${relative(repo, target)}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('stages/', () => {
  it('import the tool only through lib/stage-api/index.ts', () => {
    const api = join(lib, 'stage-api', 'index.ts');
    const leaks = sources(join(repo, 'stages')).flatMap((file) =>
      localImports(file)
        .filter((target) => target.startsWith(`${lib}/`) && target !== api)
        .map((target) => `${relative(repo, file)} -> ${relative(repo, target)}`),
    );
    expect(leaks).toEqual([]);
  });
});

function existsFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
