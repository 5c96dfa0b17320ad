// README's shell blocks, run as pasted, top to bottom, in a clone-like copy of the repo (the
// pipeline, its code, samples, config and lock; node_modules and the compiled dist/ linked, as
// `npm ci` would leave them), its default remote a folder beside it. Each command must succeed,
// and every command a hint in its output names (`npx pipe build`) must run as pasted too: exit 127
// (command not found) or 2 (bad command line) fails the test.
//
// Not run, and said in the test's name: `npm ci` (the copy is already installed and compiled),
// `npm test` (this suite), and lines that need a Cloud Storage bucket and credentials.
//
// `npx pipe` in a checkout installs a link to that checkout into ~/.npm/_npx/<hash of its path>
// (npm's way to run a package's own bin). Doing that for every temp copy would litter the user's
// npm cache, so here an `npx` first on PATH runs the copy's bin/pipe.js for `npx pipe` and hands
// anything else to the real npx; one test runs the real `npx pipe` in this checkout instead.
// A bare `pipe` finds nothing on PATH, as after `npm ci`.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestKey } from './helpers/signing.js';
import { repoRoot } from './helpers/workspace.js';

const COPIED = [
  'pipeline.yaml',
  'pipeline.lock',
  'params.yaml',
  'package.json',
  'bin',
  'config',
  'stages',
  'samples',
  'lib',
];

interface Line {
  readonly line: number;
  readonly text: string;
}

/** The command lines of README's ```sh blocks (comment-only and blank lines dropped). */
function shellLines(markdown: string): Line[] {
  const found: Line[] = [];
  let inSh = false;
  markdown.split('\n').forEach((text, i) => {
    const fence = /^\s*```\s*([\w-]*)/.exec(text);
    if (fence !== null) {
      inSh = !inSh && ['sh', 'bash', 'shell'].includes(fence[1]!);
      return;
    }
    if (inSh && text.trim() !== '' && !text.trim().startsWith('#'))
      found.push({ line: i + 1, text });
  });
  return found;
}

/** Why a README line is not run here, or undefined when it is. */
function skipReason(text: string): string | undefined {
  const command = text.replace(/\s#.*$/, '');
  if (command.includes('gs://')) return 'needs a Cloud Storage bucket and credentials';
  if (/^npm ci\b/.test(text.trim())) return 'installs: the copy is already installed and compiled';
  if (/^npm test\b/.test(text.trim())) return 'runs this test suite';
  if (/^mkdir \.\.\/pipe-remote\b/.test(text.trim()))
    return 'no longer needed: the first push creates the default remote';
  return undefined;
}

/** The commands a hint in pipe's output offers to run: `npx pipe ...` or `pipe ...` in backticks. */
function hintedCommands(output: string): string[] {
  return [...output.matchAll(/`((?:npx )?pipe [^`]+)`/g)].map((m) => m[1]!);
}

const base = mkdtempSync(join(tmpdir(), 'pipe-readme-'));
const root = join(base, 'checkout');
const shims = join(base, 'bin');
let signingKey = '';
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** `npx` for the copy: `npx pipe ARGS` runs its bin/pipe.js; any other npx call is npm's. */
function writeNpxShim(): void {
  const realNpx = spawnSync('bash', ['-c', 'command -v npx'], { encoding: 'utf8' }).stdout.trim();
  mkdirSync(shims);
  writeFileSync(
    join(shims, 'npx'),
    `#!/usr/bin/env bash\nif [ "$1" = pipe ]; then shift; exec node ${JSON.stringify(join(root, 'bin/pipe.js'))} "$@"; fi\nexec ${JSON.stringify(realNpx)} "$@"\n`,
  );
  chmodSync(join(shims, 'npx'), 0o755);
}

function run(command: string): { code: number | null; out: string } {
  const r = spawnSync('bash', ['-c', command], {
    cwd: root,
    encoding: 'utf8',
    env: {
      PATH: `${shims}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: process.env.HOME ?? base,
      CI: 'true',
      PIPE_SIGNING_KEY: signingKey,
    },
    timeout: 180_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the checks themselves', () => {
  it('take sh lines (not comments, not other fences) and backticked pipe hints', () => {
    const md = ['```sh', '# note', 'npx pipe build   # go', '```', '```yaml', 'a: b', '```'];
    expect(shellLines(md.join('\n'))).toEqual([{ line: 3, text: 'npx pipe build   # go' }]);
    expect(hintedCommands('3 stale; run `pipe build`, or `npx pipe status --json`; `x`')).toEqual([
      'pipe build',
      'npx pipe status --json',
    ]);
  });
});

describe("README's commands, as pasted in a fresh checkout", () => {
  mkdirSync(root);
  for (const path of COPIED) cpSync(join(repoRoot, path), join(root, path), { recursive: true });
  rmSync(join(root, 'config/.env.local'), { force: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  symlinkSync(join(repoRoot, 'dist'), join(root, 'dist'));
  writeNpxShim();
  // A signing key trusted by the checkout (docs/threat-model.md), so the README's pull of the
  // version its push published is of a trusted version, as on a team that committed its key.
  const team = makeTestKey();
  mkdirSync(join(root, 'config/trusted-keys'), { recursive: true });
  writeFileSync(join(root, 'config/trusted-keys/team.pub'), team.pubLine('the team'));
  signingKey = team.path;

  it("`npx pipe` runs this checkout's own bin (the real npx)", () => {
    // Without ignore-scripts, npx's first install of a checkout at a new path (a fresh clone in
    // CI) runs its `prepare`: tsc rewrites dist/ while the other test files import from it.
    const r = spawnSync('npx', ['pipe', '--version'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, npm_config_ignore_scripts: 'true' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(
      (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
        .version,
    );
  });

  const hinted = new Set<string>();
  for (const { line, text } of shellLines(readFileSync(join(repoRoot, 'README.md'), 'utf8'))) {
    const skip = skipReason(text);
    if (skip !== undefined) {
      it.skip(`README.md:${line}: ${text.trim()} (not run: ${skip})`, () => {});
      continue;
    }
    it(`README.md:${line}: ${text.trim()}`, { timeout: 240_000 }, () => {
      const r = run(text);
      expect(r.code, r.out).toBe(0);
      for (const hint of hintedCommands(r.out)) {
        if (hinted.has(hint)) continue;
        hinted.add(hint);
        const h = run(hint);
        expect(
          [127, 2],
          `the hint \`${hint}\` printed by README.md:${line}:\n${h.out}`,
        ).not.toContain(h.code);
      }
    });
  }
});
