// pipeline.yaml and params.yaml that would let a build clobber the workspace or crash pipe
// (issue 13): outs on pipe's or git's own files, stage names that are Object.prototype's
// properties, and a YAML alias bomb. Each is refused before anything runs, with exit 3 and a
// located message; none may reach exit 70 (an internal error). Line:col values are counted by
// hand from the inline files (`lines(...)`: entry N is line N).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lines, removeTempWorkspaces, tempWorkspace } from './support/workspace-rig.js';

afterEach(removeTempWorkspaces);

const script = { 'stages/a.mjs': '// a\n' };

describe('outs that would clobber the workspace', () => {
  // Each out is on line 4, column 12 (`    outs: [` is 11 characters).
  const clobbering = [
    '.git',
    '.git/hooks',
    '.pipe',
    '.pipe/tmp',
    'pipeline.lock',
    'params.yaml',
    'pipeline.yaml',
    'node_modules',
    'config',
    'config/.env.local',
  ];
  for (const out of clobbering) {
    it(`out "${out}" is refused at its place (exit 3)`, () => {
      const ws = tempWorkspace({ ...script, 'pipeline.yaml': '' });
      ws.write(
        'pipeline.yaml',
        lines('stages:', '  a:', '    cmd: stages/a.mjs', `    outs: [${out}]`),
      );
      const r = ws.pipe('build');
      expect(r.code).toBe(3);
      const first = r.stderr.split('\n')[0];
      expect(first).toMatch(
        new RegExp(
          `^pipeline\\.yaml:4:12: error: out "${out.replaceAll('.', '\\.')}" of stage "a" `,
        ),
      );
      expect(r.stderr).toContain('  fix: ');
      expect(r.stderr).not.toContain('internal error');
    });
  }

  it('building the refused out never ran the stage: .git/hooks keeps its files', () => {
    const ws = tempWorkspace({
      'stages/a.mjs': "import fs from 'node:fs'; fs.writeFileSync('ran', '1');\n",
      '.git/hooks/pre-commit': '#!/bin/sh\n',
      'pipeline.yaml': lines('stages:', '  a:', '    cmd: stages/a.mjs', '    outs: [.git/hooks]'),
    });
    expect(ws.pipe('build').code).toBe(3);
    expect(readFileSync(join(ws.dir, '.git/hooks/pre-commit'), 'utf8')).toBe('#!/bin/sh\n');
    expect(existsSync(join(ws.dir, 'ran'))).toBe(false);
  });

  it('an out reached through a symlink inside the workspace that points at .git', () => {
    const ws = tempWorkspace({
      ...script,
      '.git/HEAD': 'ref: refs/heads/main\n',
      'pipeline.yaml': lines('stages:', '  a:', '    cmd: stages/a.mjs', '    outs: [data/meta]'),
    });
    ws.link('data', '.git');
    const r = ws.pipe('dag');
    expect(r.code).toBe(3);
    expect(r.stderr.split('\n')[0]).toBe(
      'pipeline.yaml:4:12: error: out "data/meta" of stage "a" leads into ".git/meta" through the symlink "data"',
    );
  });

  it('a case variant of .git is refused too (case-insensitive file systems)', () => {
    const ws = tempWorkspace({
      ...script,
      'pipeline.yaml': lines('stages:', '  a:', '    cmd: stages/a.mjs', '    outs: [.Git/hooks]'),
    });
    const r = ws.pipe('dag');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^pipeline\.yaml:4:12: error: out "\.Git\/hooks" of stage "a" /);
  });

  it("an out holding a file another stage's script imports is refused by build (exit 3)", () => {
    const ws = tempWorkspace({
      'stages/a.mjs': "import { word } from './shared/words.mjs';\nconsole.log(word);\n",
      'stages/shared/words.mjs': "export const word = 'safe';\n",
      'stages/b.mjs': "import fs from 'node:fs';\nfs.writeFileSync('ran-b', '1');\n",
      'pipeline.yaml': lines(
        'stages:',
        '  a:',
        '    cmd: stages/a.mjs',
        '    outs: [data/a]',
        '  b:',
        '    cmd: stages/b.mjs',
        '    outs: [stages/shared]',
      ),
    });
    const r = ws.pipe('build');
    expect(r.code).toBe(3);
    expect(r.stderr.split('\n')[0]).toBe(
      'pipeline.yaml:7:12: error: out "stages/shared" of stage "b" holds "stages/shared/words.mjs", code that stage "a" runs',
    );
    expect(readFileSync(join(ws.dir, 'stages/shared/words.mjs'), 'utf8')).toBe(
      "export const word = 'safe';\n",
    );
    expect(existsSync(join(ws.dir, 'ran-b'))).toBe(false);
  });

  it('an ordinary out beside them is fine', () => {
    const ws = tempWorkspace({
      ...script,
      'pipeline.yaml': lines(
        'stages:',
        '  a:',
        '    cmd: stages/a.mjs',
        '    outs: [data/.git-like]',
      ),
    });
    expect(ws.pipe('dag').code).toBe(0);
  });
});

describe('names that are Object.prototype properties', () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`stage "${name}": exit 3 at the name, for dag, status and build`, () => {
      const ws = tempWorkspace({
        ...script,
        'pipeline.yaml': lines('stages:', `  ${name}:`, '    cmd: stages/a.mjs', '    outs: [x]'),
      });
      for (const command of ['dag', 'status', 'build']) {
        const r = ws.pipe(command);
        expect(r.code, command).toBe(3);
        expect(r.stderr.split('\n')[0], command).toBe(
          `pipeline.yaml:2:3: error: stage name "${name}" is reserved (a property every JavaScript object has)`,
        );
      }
    });
  }

  it('outs, deps and params named like Object.prototype properties build and stay fresh', () => {
    const ws = tempWorkspace({
      'stages/a.mjs': [
        "import fs from 'node:fs';",
        'const outs = JSON.parse(process.env.PIPE_OUTS);',
        "fs.writeFileSync(outs['constructor'], fs.readFileSync('toString'));",
        "fs.writeFileSync(outs['valueOf'], JSON.stringify(JSON.parse(process.env.PIPE_PARAMS)));",
        '',
      ].join('\n'),
      toString: 'input\n',
      'params.yaml': lines('hasOwnProperty: 1'),
      'pipeline.yaml': lines(
        'stages:',
        '  a:',
        '    cmd: stages/a.mjs',
        '    deps: [toString]',
        '    outs: [constructor, valueOf]',
        '    params: [hasOwnProperty]',
      ),
    });
    const built = ws.pipe('build');
    expect(built.code, built.stderr).toBe(0);
    expect(readFileSync(join(ws.dir, 'constructor'), 'utf8')).toBe('input\n');
    expect(readFileSync(join(ws.dir, 'valueOf'), 'utf8')).toBe('{"hasOwnProperty":1}');
    // --check: exit 0 only when every stage is fresh (1 when stale).
    const status = ws.pipe('status', '--check');
    expect(status.code, status.stderr).toBe(0);
  });
});

describe('a YAML alias bomb (billion laughs)', () => {
  /** Nine levels of nine aliases each: 9^9 (387 million) strings once expanded. */
  function bomb(key: (level: number) => string): string[] {
    const rows = [`${key(0)}: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
    for (let i = 1; i < 9; i++) {
      const refs = Array.from({ length: 9 }, () => `*l${i - 1}`).join(', ');
      rows.push(`${key(i)}: &l${i} [${refs}]`);
    }
    return rows;
  }

  it('in pipeline.yaml: exit 3 at the alias that expands too far', () => {
    const ws = tempWorkspace({
      ...script,
      'pipeline.yaml': lines(
        ...bomb((i) => `x-l${i}`),
        'stages:',
        '  a:',
        '    cmd: stages/a.mjs',
        '    deps: *l8',
        '    outs: [x]',
      ),
    });
    const r = ws.pipe('dag');
    expect(r.code).toBe(3);
    // Counted by hand: l0 is 10 values (the list and its 9 strings), l1 = 1 + 9*10 = 91,
    // l2 = 820, l3 = 7,381. The aliases of lines 2-4 add 9*10 + 9*91 + 9*820 = 8,289; the first
    // *l3 on line 5 (`x-l4: &l4 [*l3`, column 12) brings that to 15,670, past 10,000.
    expect(r.stderr.split('\n')[0]).toBe(
      'pipeline.yaml:5:12: error: YAML aliases here expand to more than 10,000 values',
    );
    expect(r.stderr).not.toContain('internal error');
  });

  it('in params.yaml: exit 3 located in params.yaml', () => {
    const ws = tempWorkspace({
      ...script,
      'params.yaml': lines(...bomb((i) => `k${i}`)),
      'pipeline.yaml': lines(
        'stages:',
        '  a:',
        '    cmd: stages/a.mjs',
        '    outs: [x]',
        '    params: [k0]',
      ),
    });
    const r = ws.pipe('dag');
    expect(r.code).toBe(3);
    // The same count as above: keys k0..k8 are as long as x-l0..x-l8, so line 5, column 10.
    expect(r.stderr.split('\n')[0]).toBe(
      'params.yaml:5:10: error: YAML aliases here expand to more than 10,000 values',
    );
  });

  it('a few honest aliases are fine', () => {
    const ws = tempWorkspace({
      ...script,
      'pipeline.yaml': lines(
        'x-outs: &o [x]',
        'stages:',
        '  a:',
        '    cmd: stages/a.mjs',
        '    outs: *o',
      ),
    });
    expect(ws.pipe('dag').code).toBe(0);
  });
});
