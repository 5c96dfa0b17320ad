// What `pipe` says about a cmd before running anything, through the real CLI: a node script must
// exist (an error, located); a command line is accepted, its program checked (a workspace path
// must exist and be executable, an error; a name missing from PATH, a warning), and a workspace
// file it names without declaring it as a dep is warned about. Lines and columns counted by hand.
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lines, removeTempWorkspaces, tempWorkspace } from './support/workspace-rig.js';

afterEach(removeTempWorkspaces);

function dag(files: Record<string, string>, executable: string[] = []) {
  const ws = tempWorkspace(files);
  for (const f of executable) chmodSync(join(ws.dir, f), 0o755);
  return ws.pipe('dag');
}

describe('cmd validation', () => {
  it('a node script that does not exist: the located error, as before', () => {
    const r = dag({ 'pipeline.yaml': lines('stages:', '  a:', '    cmd: stages/a.ts') });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      lines(
        'pipeline.yaml:3:10: error: cmd "stages/a.ts" of stage "a" does not exist',
        '    3 |     cmd: stages/a.ts',
        '      |          ^~~~~~~~~~~',
        '  fix: create the script, or fix the path (it is relative to the workspace)',
        '1 error',
      ),
    );
  });

  it('a command line with a program on PATH and its script as a dep: accepted, nothing said', () => {
    const r = dag({
      'pipeline.yaml': lines(
        'stages:',
        '  train:',
        '    cmd: python3 train.py --fast',
        '    deps: [train.py]',
      ),
      'train.py': 'print(1)\n',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('a file the command line names but the stage does not declare: a warning at the cmd', () => {
    const r = dag({
      'pipeline.yaml': lines('stages:', '  train:', "    cmd: python3 'train.py' sql/q.sql"),
      'train.py': 'print(1)\n',
      'sql/q.sql': 'select 1;\n',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      lines(
        'pipeline.yaml:3:10: warning: the cmd of stage "train" names "train.py", which is not one of its deps: editing it will not make the stage stale',
        "    3 |     cmd: python3 'train.py' sql/q.sql",
        '      |          ^~~~~~~~~~~~~~~~~~~~~~~~~~~~',
        "  fix: add it to the stage's deps: deps: [train.py]",
        'pipeline.yaml:3:10: warning: the cmd of stage "train" names "sql/q.sql", which is not one of its deps: editing it will not make the stage stale',
        "    3 |     cmd: python3 'train.py' sql/q.sql",
        '      |          ^~~~~~~~~~~~~~~~~~~~~~~~~~~~',
        "  fix: add it to the stage's deps: deps: [sql/q.sql]",
      ),
    );
  });

  it('a program that is not on PATH: a warning that names it; a workspace file of that name gets a hint', () => {
    const r = dag({
      'pipeline.yaml': lines(
        'stages:',
        '  a:',
        '    cmd: LC_ALL=C train.sh',
        '    deps: [train.sh]',
      ),
      'train.sh': 'echo hi\n',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      lines(
        'pipeline.yaml:3:10: warning: the cmd of stage "a" runs "train.sh", which is not on PATH',
        '    3 |     cmd: LC_ALL=C train.sh',
        '      |          ^~~~~~~~~~~~~~~~~',
        '  fix: the shell looks "train.sh" up on PATH; to run the workspace file, write ./train.sh',
      ),
    );
  });

  it('a program named by a workspace path: an error when missing or not executable', () => {
    const r = dag({
      'pipeline.yaml': lines(
        'stages:',
        '  a:',
        '    cmd: scripts/missing.sh',
        '  b:',
        '    cmd: ./scripts/plain.sh x',
        '    deps: [scripts/plain.sh]',
      ),
      'scripts/plain.sh': 'echo hi\n',
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      lines(
        'pipeline.yaml:3:10: error: the cmd of stage "a" runs "scripts/missing.sh", which does not exist',
        '    3 |     cmd: scripts/missing.sh',
        '      |          ^~~~~~~~~~~~~~~~~~',
        '  fix: create it, or fix the path (it is relative to the workspace);',
        '       to run a program on PATH, name it without a folder',
        'pipeline.yaml:5:10: error: the cmd of stage "b" runs "./scripts/plain.sh", which is not executable',
        '    5 |     cmd: ./scripts/plain.sh x',
        '      |          ^~~~~~~~~~~~~~~~~~~~',
        '  fix: make it executable (chmod +x ./scripts/plain.sh; git keeps the mode), or name its interpreter: sh ./scripts/plain.sh',
        '2 errors',
      ),
    );
  });

  it('an executable workspace program, and one that another stage builds: accepted', () => {
    const r = dag(
      {
        'pipeline.yaml': lines(
          'stages:',
          '  compile:',
          '    cmd: ./scripts/build.sh',
          '    deps: [scripts/build.sh]',
          '    outs: [build/tool]',
          '  use:',
          '    cmd: build/tool --fast',
          '    deps: [build/tool]',
        ),
        'scripts/build.sh': '#!/bin/sh\n',
      },
      ['scripts/build.sh'],
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
