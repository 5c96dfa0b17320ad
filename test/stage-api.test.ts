// The stage API is a published surface: every name lib/stage-api/index.ts exports has its own doc
// comment there and a row in docs/stage-contract.md ("The stage API"), and the table lists nothing
// the module does not export. Read from the two files' text, so neither can drift alone.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const index = readFileSync(join(repo, 'lib/stage-api/index.ts'), 'utf8');
const contract = readFileSync(join(repo, 'docs/stage-contract.md'), 'utf8');

/** Each exported name with the comment line just above it, from `export { ... } from` blocks. */
function exportedNames(): { name: string; doc: string | undefined }[] {
  const found: { name: string; doc: string | undefined }[] = [];
  for (const block of index.matchAll(/export\s*\{([\s\S]*?)\}\s*from\s*'/g)) {
    const lines = block[1]!.split('\n').map((l) => l.trim());
    lines.forEach((line, i) => {
      const name = /^(?:type\s+)?([A-Za-z]\w*),?$/.exec(line)?.[1];
      if (name === undefined) return;
      const above = lines[i - 1];
      found.push({ name, doc: above?.startsWith('/**') ? above : undefined });
    });
  }
  return found;
}

/** Names in the first column of the table under "## The stage API". */
function documentedNames(): string[] {
  const section = contract.split(/^## The stage API$/m)[1] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Za-z]\w*)(?:\(\))?`/g)])
    .map((m) => m[1]!);
}

describe('the stage API', () => {
  it('gives every export its own one-line doc comment', () => {
    const names = exportedNames();
    expect(names.length).toBeGreaterThan(0);
    expect(
      names.filter((n) => n.doc === undefined || !n.doc.endsWith('*/')).map((n) => n.name),
    ).toEqual([]);
  });

  it('lists exactly its exports in docs/stage-contract.md', () => {
    const exported = exportedNames().map((n) => n.name);
    expect(documentedNames().sort()).toEqual([...exported].sort());
  });

  it('exports at run time the functions and classes the table names', async () => {
    const api = (await import('../lib/stage-api/index.js')) as Record<string, unknown>;
    const values = exportedNames()
      .map((n) => n.name)
      .filter((name) => !new RegExp(`type\\s+${name}\\b`).test(index));
    expect(Object.keys(api).sort()).toEqual(values.sort());
  });
});
