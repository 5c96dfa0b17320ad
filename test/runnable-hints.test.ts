// Every command the CLI tells a person to run must run as pasted: after `npm ci` a bare `pipe` is
// not on PATH, so a hint says `npx pipe ...`. The check reads the tool's sources (every message
// and help text is a string literal in lib/), so a hint in a rarely reached error path is covered
// too; one status run checks the hint as printed.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempWorkspace, stage } from './helpers/workspace.js';

const COMMANDS = 'build|status|dag|push|pull|versions|params|gc';
/**
 * A `pipe <command>` offered to be run: in escaped backticks inside a template literal, in
 * backticks inside a quoted string, or in parentheses. (A template literal that starts with
 * `pipe push:` is a message's prefix, not a hint.)
 */
const BARE_HINT = new RegExp(`(\\\\\`|['"][^'"]*\`|\\()pipe (${COMMANDS})\\b`);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sources(join(dir, d.name))
      : d.name.endsWith('.ts')
        ? [join(dir, d.name)]
        : [],
  );
}

/** `file:line: text` of code lines (comments skipped) that offer a bare `pipe` command. */
function bareHints(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text, i) => {
      const code = text.trim();
      if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return [];
      return BARE_HINT.test(text) ? [`${relative(repoRoot, file)}:${i + 1}: ${code}`] : [];
    });
}

describe('hints the CLI prints', () => {
  it('the scan finds a bare hint and passes an npx one', () => {
    expect(BARE_HINT.test('run \\`pipe build\\` first')).toBe(true);
    expect(BARE_HINT.test("'run `pipe push` first'")).toBe(true);
    expect(BARE_HINT.test('(pipe status --json lists every one)')).toBe(true);
    expect(BARE_HINT.test('run \\`npx pipe build\\` first')).toBe(false);
    expect(BARE_HINT.test('`pipe push: refused`')).toBe(false); // a message's prefix, not a hint
  });

  it('say `npx pipe` wherever lib/ offers a command to run', () => {
    expect(sources(join(repoRoot, 'lib')).flatMap(bareHints)).toEqual([]);
  });

  it('status names a command that runs as pasted', async () => {
    const ws = await tempWorkspace({
      'pipeline.yaml': 'stages:\n  a:\n    cmd: stages/a.mjs\n    outs: [out.txt]\n',
      'stages/a.mjs': stage`fs.writeFileSync(out('out.txt'), 'x');`,
    });
    const r = await ws.pipe('status');
    expect(r.stdout).toContain('1 of 1 stages stale; run `npx pipe build`\n');
  });
});
