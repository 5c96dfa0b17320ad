// Keeps README honest, cheaply: short enough to read (a newcomer's page; the rest lives in docs/),
// every relative link in README and docs/ leads to a file that exists, and every shell line that
// runs pipe says `npx pipe` (after `npm ci`, a bare `pipe` is not on PATH: pasted, it fails).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '..');
const README_MAX_LINES = 250;

interface Link {
  readonly line: number;
  readonly target: string;
}

/** Relative link targets of a markdown text (`[text](target)`, images too), anchors dropped. */
function relativeLinks(markdown: string): Link[] {
  const links: Link[] = [];
  markdown.split('\n').forEach((text, i) => {
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!.split('#')[0]!;
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // #anchor, http:, mailto:
      links.push({ line: i + 1, target });
    }
  });
  return links;
}

/** `file:line: target` for each relative link of `file` that names no existing path. */
function brokenLinks(file: string): string[] {
  const rel = relative(repo, file);
  return relativeLinks(readFileSync(file, 'utf8'))
    .filter((link) => !existsSync(resolve(dirname(file), link.target)))
    .map((link) => `${rel}:${link.line}: ${link.target}`);
}

/** Lines inside shell fences (sh, bash, shell, console, or none) that run a bare `pipe`. */
function barePipeLines(markdown: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  let shell = false;
  let fenced = false;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^\s*```\s*([\w-]*)/.exec(text);
    if (fence !== null) {
      fenced = !fenced;
      shell = fenced && ['', 'sh', 'bash', 'shell', 'console'].includes(fence[1]!);
      return;
    }
    if (shell && /^\s*(\$\s+)?pipe(\s|$)/.test(text)) found.push({ line: i + 1, text });
  });
  return found;
}

const readme = join(repo, 'README.md');
const docs = readdirSync(join(repo, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => join(repo, 'docs', name));

describe('the checks themselves', () => {
  it('find relative links, skip URLs and anchors, and report one that leads nowhere', () => {
    const md = [
      'See [design](docs/design.md#fresh-and-stale), [site](https://example.com/x.md),',
      '[top](#pipe) and ![chart](docs/missing.png "a chart").',
    ].join('\n');
    expect(relativeLinks(md)).toEqual([
      { line: 1, target: 'docs/design.md' },
      { line: 2, target: 'docs/missing.png' },
    ]);
  });

  it('report a bare pipe in a shell fence, not npx pipe, prose or other fences', () => {
    const md = [
      'Run pipe status to see.',
      '```sh',
      'npx pipe build',
      'pipe status --json',
      '$ pipe versions',
      '```',
      '```yaml',
      'pipe: not a command',
      '```',
    ].join('\n');
    expect(barePipeLines(md).map((l) => l.line)).toEqual([4, 5]);
  });
});

describe('README.md', () => {
  const text = readFileSync(readme, 'utf8');

  it(`is at most ${README_MAX_LINES} lines (history and internals live in docs/)`, () => {
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });

  it('says `npx pipe` on every shell line that runs pipe', () => {
    const bare = barePipeLines(text).map((l) => `README.md:${l.line}: ${l.text}`);
    expect(bare, 'write `npx pipe ...`: a bare `pipe` is not on PATH after `npm ci`').toEqual([]);
    // The quick start runs pipe, so the scan above must have seen shell fences at all.
    expect(text).toMatch(/```sh\n[^`]*npx pipe build features/);
  });
});

describe('relative links in README.md, docs/ and bench/results/README.md', () => {
  const files = [readme, ...docs, join(repo, 'bench/results/README.md')];

  it('lead to files that exist', () => {
    expect(files.flatMap(brokenLinks)).toEqual([]);
  });

  it('are found at all (README links every doc and every lib/ folder README)', () => {
    const targets = relativeLinks(readFileSync(readme, 'utf8')).map((l) => l.target);
    for (const doc of docs) expect(targets).toContain(relative(repo, doc));
    expect(targets.filter((t) => /^lib\/[\w-]+\/README\.md$/.test(t)).length).toBe(
      readdirSync(join(repo, 'lib'), { withFileTypes: true }).filter((d) => d.isDirectory()).length,
    );
  });
});
