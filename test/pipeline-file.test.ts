// pipeline.yaml validation, through the real CLI: every error is asserted verbatim, with its
// line:col, source line, marker and fix. Line and column numbers were counted by hand from the
// inline files (1-based; `lines(...)` puts one array entry per line, so entry N is line N).
import { afterEach, describe, expect, it } from 'vitest';
import { lines, removeTempWorkspaces, tempWorkspace } from './support/workspace-rig.js';

afterEach(removeTempWorkspaces);

const scripts = {
  'stages/download.mjs': '// download\n',
  'stages/clean.mjs': '// clean\n',
  'stages/keypairs.mjs': '// keypairs\n',
  'stages/report.mjs': '// report\n',
};

/** Runs `pipe dag` on an inline pipeline.yaml; expects it to refuse with exit code 3. */
function refused(yaml: string, extra: Record<string, string> = {}): string {
  const ws = tempWorkspace({ ...scripts, ...extra, 'pipeline.yaml': yaml });
  const r = ws.pipe('dag');
  expect(r.stdout).toBe('');
  expect(r.code).toBe(3);
  return r.stderr;
}

describe('pipeline.yaml errors, verbatim', () => {
  it('YAML syntax: an unclosed list', () => {
    const yaml = lines(
      'stages:',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    deps: [data/raw', // the ']' is missing; yaml notices at the next key, line 5 column 5
      '    outs: [data/clean]',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:5:5: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
        '    5 |     outs: [data/clean]',
        '      |     ^',
        '  fix: close the list with "]" on the line where it opens',
        '1 error',
      ),
    );
  });

  it('unknown keys with a suggestion, wrong types and a missing cmd, all in one pass', () => {
    const yaml = lines(
      'stages:',
      '  download:',
      '    cmd: stages/download.mjs',
      '    outs: data/raw', //           line 4: a string, not a list; value starts at column 11
      '  clean:', //                     line 5: no cmd; the stage name starts at column 3
      '    dep: [data/raw]', //          line 6: "dep" at column 5 -> deps
      '    parms: [clean.max_hold_ms]', // line 7: "parms" -> params
      '    desc: 2024', //               line 8: a number; column 11
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:4:11: error: "outs" of stage "download" must be a list, not a string',
        '    4 |     outs: data/raw',
        '      |           ^~~~~~~~',
        '  fix: write a list, one entry per item: outs: [first, second]',
        'pipeline.yaml:5:3: error: stage "clean" has no "cmd"',
        '    5 |   clean:',
        '      |   ^~~~~',
        '  fix: add the script or command line it runs: cmd: stages/clean.ts',
        'pipeline.yaml:6:5: error: stage "clean" has an unknown key "dep"',
        '    6 |     dep: [data/raw]',
        '      |     ^~~',
        '  fix: did you mean "deps"? (a stage takes cmd, deps, outs, params, env, desc, incremental)',
        'pipeline.yaml:7:5: error: stage "clean" has an unknown key "parms"',
        '    7 |     parms: [clean.max_hold_ms]',
        '      |     ^~~~~',
        '  fix: did you mean "params"? (a stage takes cmd, deps, outs, params, env, desc, incremental)',
        'pipeline.yaml:8:11: error: "desc" of stage "clean" must be a string, not a number',
        '    8 |     desc: 2024',
        '      |           ^~~~',
        '  fix: quote it so YAML reads it as a string: desc: "..."',
        '5 errors',
      ),
    );
  });

  it('a misspelt top-level key is one error, not two', () => {
    const yaml = lines(
      'stage:', // line 1: "stage" -> stages ("stages" is then missing too, but that is the same fix)
      '  clean:',
      '    cmd: stages/clean.mjs',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:1:1: error: pipeline.yaml has an unknown key "stage"',
        '    1 | stage:',
        '      | ^~~~~',
        '  fix: did you mean "stages"? (pipeline.yaml has one top-level key, stages, plus x-... keys for YAML anchors)',
        '1 error',
      ),
    );
  });

  it('list items of the wrong type, an empty stage, and a bad env name', () => {
    const yaml = lines(
      'stages:',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    deps: [1, {path: x}]', // line 4: items at columns 12 and 15
      '    env: [1TZ]', //          line 5: column 11
      '  report:', //               line 6: no fields at all
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:4:12: error: item 1 of "deps" of stage "clean" must be a string, not a number',
        '    4 |     deps: [1, {path: x}]',
        '      |            ^',
        '  fix: quote it so YAML reads it as a string',
        'pipeline.yaml:4:15: error: item 2 of "deps" of stage "clean" must be a string, not a map',
        '    4 |     deps: [1, {path: x}]',
        '      |               ^~~~~~~~~',
        '  fix: write each item as a plain string (one path or name per item)',
        'pipeline.yaml:5:11: error: item 1 of "env" of stage "clean" is not an environment variable name',
        '    5 |     env: [1TZ]',
        '      |           ^~~',
        '  fix: use letters, digits and "_", not starting with a digit (e.g. TZ, PIPE_REMOTE)',
        'pipeline.yaml:6:3: error: stage "report" must be a map of stage fields, not empty',
        '    6 |   report:',
        '      |   ^~~~~~',
        '  fix: give the stage its fields, indented under its name:',
        '         cmd: stages/report.ts',
        '4 errors',
      ),
    );
  });

  it('an unknown key with no close match, and a cmd script that is a folder', () => {
    const yaml = lines('stages:', '  clean:', '    cmd: stages/all.mjs', '    retries: 3');
    expect(refused(yaml, { 'stages/all.mjs/index.mjs': '' })).toBe(
      lines(
        'pipeline.yaml:3:10: error: cmd "stages/all.mjs" of stage "clean" is a folder, not a script',
        '    3 |     cmd: stages/all.mjs',
        '      |          ^~~~~~~~~~~~~~',
        '  fix: name the script itself, e.g. stages/all.mjs/index.ts',
        'pipeline.yaml:4:5: error: stage "clean" has an unknown key "retries"',
        '    4 |     retries: 3',
        '      |     ^~~~~~~',
        '  fix: remove it (a stage takes cmd, deps, outs, params, env, desc, incremental)',
        '2 errors',
      ),
    );
  });

  it('YAML anchors: an x- key may hold shared values; an alias is located where it is used', async () => {
    const shared = lines(
      'x-inputs: &inputs [samples, stages/shared]', // x-... keys are free for anchors
      'stages:',
      '  download:',
      '    cmd: stages/download.mjs',
      '    deps: *inputs',
      '    outs: [data/raw]',
    );
    const files = { 'samples/a.json': '{}', 'stages/shared/util.mjs': '' };
    const ok = tempWorkspace({ ...scripts, ...files, 'pipeline.yaml': shared });
    const { loadPipeline } = await import('../lib/pipeline/pipeline-file.js');
    const loaded = await loadPipeline(ok.dir);
    // The deps reached through the alias are all there (not silently dropped), located at the anchor.
    expect(
      loaded.ok &&
        loaded.value.pipeline.stages
          .get('download' as never)
          ?.deps.map((d) => `${d.value}@${d.range.line}:${d.range.column}`),
    ).toEqual(['samples@1:20', 'stages/shared@1:29']);
    const nested = shared.replace('deps: *inputs', 'deps: [*inputs]'); // line 5: the alias at column 12
    expect(refused(nested, files)).toBe(
      lines(
        'pipeline.yaml:5:12: error: item 1 of "deps" of stage "download" must be a string, not a list',
        '    5 |     deps: [*inputs]',
        '      |            ^~~~~~~',
        '  fix: write each item as a plain string (one path or name per item)',
        '1 error',
      ),
    );
    const merged = lines(
      'x-defaults: &defaults {deps: [samples]}',
      'stages:',
      '  download:',
      '    <<: *defaults',
      '    cmd: stages/download.mjs',
    );
    expect(refused(merged, files)).toBe(
      lines(
        'pipeline.yaml:4:5: error: stage "download" uses a YAML merge key (<<), which pipe does not read',
        '    4 |     <<: *defaults',
        '      |     ^~',
        '  fix: share values field by field instead: deps: *common-deps',
        '1 error',
      ),
    );
  });

  it('a duplicate stage name, with both places', () => {
    const yaml = lines(
      'stages:',
      '  clean:', //            line 2: first definition
      '    cmd: stages/clean.mjs',
      '    outs: [data/clean]',
      '  report:',
      '    cmd: stages/report.mjs',
      '    deps: [data/clean]', // made by the first "clean": no second error cascades
      '  clean:', //            line 8: second definition
      '    cmd: stages/clean.mjs',
      '    outs: [data/clean2]',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:8:3: error: stage "clean" is defined twice',
        '    8 |   clean:',
        '      |   ^~~~~',
        '  fix: rename one of the two stages; stage names must be unique',
        '  pipeline.yaml:2:3: note: stage "clean" is first defined here',
        '      2 |   clean:',
        '        |   ^~~~~',
        '1 error',
      ),
    );
  });

  it('a key written twice inside one stage', () => {
    const yaml = lines(
      'stages:',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    outs: [a]',
      '    outs: [b]',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:5:5: error: key "outs" is defined twice',
        '    5 |     outs: [b]',
        '      |     ^~~~',
        '  fix: merge the two into one; YAML would silently keep only the last',
        '  pipeline.yaml:4:5: note: key "outs" is first defined here',
        '      4 |     outs: [a]',
        '        |     ^~~~',
        '1 error',
      ),
    );
  });

  it('stage names with characters outside [A-Za-z0-9_-]', () => {
    const yaml = lines(
      'stages:',
      '  clean data:',
      '    cmd: stages/clean.mjs',
      '  keypairs.v2:',
      '    cmd: stages/keypairs.mjs',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:2:3: error: stage name "clean data" has characters pipe does not allow',
        '    2 |   clean data:',
        '      |   ^~~~~~~~~~',
        '  fix: use only letters, digits, "_" and "-", e.g. "clean_data"',
        'pipeline.yaml:4:3: error: stage name "keypairs.v2" has characters pipe does not allow',
        '    4 |   keypairs.v2:',
        '      |   ^~~~~~~~~~~',
        '  fix: use only letters, digits, "_" and "-", e.g. "keypairs_v2"',
        '2 errors',
      ),
    );
  });

  it('a cycle of three stages, every edge named at its dep', () => {
    //   clean ──data/clean──▶ keypairs ──data/keypairs.parquet──▶ features
    //     ▲                                                          │
    //     └──────── data/features/scale.json (inside data/features) ─┘
    const yaml = lines(
      'stages:',
      '  clean:', //                              line 2
      '    cmd: stages/clean.mjs',
      '    deps: [data/features/scale.json]', //  line 4, column 12
      '    outs: [data/clean]',
      '  keypairs:',
      '    cmd: stages/keypairs.mjs',
      '    deps: [data/clean]', //                line 8, column 12
      '    outs: [data/keypairs.parquet]',
      '  features:',
      '    cmd: stages/report.mjs',
      '    deps: [data/keypairs.parquet]', //     line 12, column 12
      '    outs: [data/features]',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:2:3: error: stage "clean" depends on itself through a cycle: clean -> keypairs -> features -> clean',
        '    2 |   clean:',
        '      |   ^~~~~',
        '  fix: a stage cannot read what it writes, directly or through other stages;',
        '       remove one of these deps (or move the out) to break the cycle',
        '  pipeline.yaml:8:12: note: "clean" points to "keypairs": "keypairs" reads "data/clean", which "clean" writes',
        '      8 |     deps: [data/clean]',
        '        |            ^~~~~~~~~~',
        '  pipeline.yaml:12:12: note: "keypairs" points to "features": "features" reads "data/keypairs.parquet", which "keypairs" writes',
        '      12 |     deps: [data/keypairs.parquet]',
        '         |            ^~~~~~~~~~~~~~~~~~~~~',
        '  pipeline.yaml:4:12: note: "features" points back to "clean": "clean" reads "data/features/scale.json", which overlaps "data/features" written by "features"',
        '      4 |     deps: [data/features/scale.json]',
        '        |            ^~~~~~~~~~~~~~~~~~~~~~~~',
        '1 error',
      ),
    );
  });

  it('a stage whose glob dep covers its own out', () => {
    const yaml = lines(
      'stages:',
      '  report:',
      '    cmd: stages/report.mjs',
      '    deps: [reports/**/*.csv]',
      '    outs: [reports/all.csv]',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:2:3: error: stage "report" reads its own out',
        '    2 |   report:',
        '      |   ^~~~~~',
        '  fix: a stage cannot read what it writes, directly or through other stages;',
        '       remove one of these deps (or move the out) to break the cycle',
        '  pipeline.yaml:4:12: note: "report" points to itself: "report" reads "reports/**/*.csv", which overlaps "reports/all.csv" written by "report"',
        '      4 |     deps: [reports/**/*.csv]',
        '        |            ^~~~~~~~~~~~~~~~',
        '1 error',
      ),
    );
  });

  it("two stages owning one out, and an out inside another stage's out", () => {
    const yaml = lines(
      'stages:',
      '  download:',
      '    cmd: stages/download.mjs',
      '    outs: [data/raw]', //                 line 4, column 12
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    outs: [data/clean, data/raw/]', //    line 7: "data/raw/" at column 24 (trailing slash stripped)
      '  report:',
      '    cmd: stages/report.mjs',
      '    outs: [data/clean/summary.json]', //  line 10, column 12
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:7:24: error: out "data/raw" of stage "clean" is also an out of stage "download"',
        '    7 |     outs: [data/clean, data/raw/]',
        '      |                        ^~~~~~~~~',
        '  fix: exactly one stage writes each out: remove it from one of the two, or give one of them another path',
        '  pipeline.yaml:4:12: note: stage "download" declares it here',
        '      4 |     outs: [data/raw]',
        '        |            ^~~~~~~~',
        'pipeline.yaml:10:12: error: out "data/clean/summary.json" of stage "report" overlaps out "data/clean" of stage "clean": "data/clean/summary.json" is inside "data/clean"',
        '    10 |     outs: [data/clean/summary.json]',
        '       |            ^~~~~~~~~~~~~~~~~~~~~~~',
        '  fix: a stage owns the whole folder it writes: move "data/clean/summary.json" out of "data/clean", or drop one of the two outs',
        '  pipeline.yaml:7:12: note: stage "clean" declares "data/clean" here',
        '      7 |     outs: [data/clean, data/raw/]',
        '        |            ^~~~~~~~~~',
        '2 errors',
      ),
    );
  });

  it('a cmd script that a stage writes', () => {
    const yaml = lines(
      'stages:',
      '  codegen:',
      '    cmd: stages/download.mjs',
      '    outs: [stages/generated]', // line 4, column 12
      '  clean:',
      '    cmd: stages/generated/clean.mjs', // line 6, column 10: not on disk either; one error only
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:6:10: error: cmd "stages/generated/clean.mjs" of stage "clean" is written by stage "codegen"',
        '    6 |     cmd: stages/generated/clean.mjs',
        '      |          ^~~~~~~~~~~~~~~~~~~~~~~~~~',
        '  fix: a cmd is a source file kept in git (stages/...), not an output: move the script out of that out',
        '  pipeline.yaml:4:12: note: stage "codegen" declares "stages/generated" here',
        '      4 |     outs: [stages/generated]',
        '        |            ^~~~~~~~~~~~~~~~',
        '1 error',
      ),
    );
  });

  it('a dep no stage makes and not on disk, and a glob that matches nothing', () => {
    const yaml = lines(
      'stages:',
      '  download:',
      '    cmd: stages/download.mjs',
      '    deps: [uploads/*.json, samples/one.json]', // samples/one.json exists on disk: fine
      '    outs: [data/raw]',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    deps: [data/rwa, data/raw/**/*.json]', // the glob is under an out: made by download
      '    outs: [data/clean]',
    );
    expect(refused(yaml, { 'samples/one.json': '{}', 'uploads/notes.txt': 'not json' })).toBe(
      lines(
        'pipeline.yaml:4:12: error: dep "uploads/*.json" of stage "download" matches no file, and no stage writes under "uploads"',
        '    4 |     deps: [uploads/*.json, samples/one.json]',
        '      |            ^~~~~~~~~~~~~~',
        '  fix: fix the pattern or add the files; a stage run on no input is almost always a mistake',
        'pipeline.yaml:8:12: error: dep "data/rwa" of stage "clean" does not exist, and no stage makes it',
        '    8 |     deps: [data/rwa, data/raw/**/*.json]',
        '      |            ^~~~~~~~',
        '  fix: did you mean "data/raw", written by stage "download"?',
        '2 errors',
      ),
    );
  });

  it('paths that escape the workspace: "..", absolute, and through a symlink', () => {
    const outside = tempWorkspace({ 'a.json': '{}' });
    const ws = tempWorkspace({
      ...scripts,
      'pipeline.yaml': lines(
        'stages:',
        '  download:',
        '    cmd: stages/download.mjs',
        //          col 12              col 31         col 45
        '    deps: [../shared/uploads, /srv/uploads, linked/a.json]',
        '    outs: [data/raw, ./data/../../x]', // normalises to "../x": column 22
      ),
    });
    ws.link('linked', outside.dir);
    const r = ws.pipe('dag');
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      lines(
        'pipeline.yaml:4:12: error: dep "../shared/uploads" of stage "download" is outside the workspace',
        '    4 |     deps: [../shared/uploads, /srv/uploads, linked/a.json]',
        '      |            ^~~~~~~~~~~~~~~~~',
        '  fix: keep every path inside the workspace (the folder that holds pipeline.yaml);',
        `       to read a folder elsewhere, declare it as a URL: file:///abs/path (or \${NAME} holding one)`,
        'pipeline.yaml:4:31: error: dep "/srv/uploads" of stage "download" is an absolute path',
        '    4 |     deps: [../shared/uploads, /srv/uploads, linked/a.json]',
        '      |                               ^~~~~~~~~~~~',
        '  fix: write it relative to the workspace (the folder that holds pipeline.yaml)',
        'pipeline.yaml:4:45: error: dep "linked/a.json" of stage "download" leads outside the workspace through the symlink "linked"',
        '    4 |     deps: [../shared/uploads, /srv/uploads, linked/a.json]',
        '      |                                             ^~~~~~~~~~~~~',
        `  fix: "linked" points to ${outside.dir}; pipe tracks only files inside the workspace:`,
        '       copy the data in (or add a stage that does), then name the copy',
        'pipeline.yaml:5:22: error: out "../x" of stage "download" is outside the workspace',
        '    5 |     outs: [data/raw, ./data/../../x]',
        '      |                      ^~~~~~~~~~~~~~',
        '  fix: keep every path inside the workspace (the folder that holds pipeline.yaml);',
        '       to use outside data, add a stage that copies it in',
        '4 errors',
      ),
    );
  });

  it('a symlink that stays inside the workspace is fine', () => {
    const ws = tempWorkspace({
      ...scripts,
      'samples/a.json': '{}',
      'pipeline.yaml': lines(
        'stages:',
        '  download:',
        '    cmd: stages/download.mjs',
        '    deps: [linked/a.json]',
        '    outs: [data/raw]',
      ),
    });
    ws.link('linked', 'samples');
    const r = ws.pipe('dag');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('download\n');
    expect(r.code).toBe(0);
  });

  it('a param key missing from params.yaml, with the closest key', () => {
    const yaml = lines(
      'stages:',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    params: [clean.max_hold, clean.min_hold_ms]',
    );
    const params = lines('clean:', '  max_hold_ms: 5000', '  min_hold_ms: 0');
    expect(refused(yaml, { 'params.yaml': params })).toBe(
      lines(
        'pipeline.yaml:4:14: error: param "clean.max_hold" of stage "clean" is not in params.yaml',
        '    4 |     params: [clean.max_hold, clean.min_hold_ms]',
        '      |              ^~~~~~~~~~~~~~',
        '  fix: did you mean "clean.max_hold_ms"? Otherwise add it to params.yaml',
        '1 error',
      ),
    );
  });

  it('a declared param without any params.yaml', () => {
    const yaml = lines(
      'stages:',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    params: [clean.max_hold_ms]',
    );
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:4:14: error: stage "clean" reads param "clean.max_hold_ms", but there is no params.yaml',
        '    4 |     params: [clean.max_hold_ms]',
        '      |              ^~~~~~~~~~~~~~~~~',
        '  fix: create params.yaml beside pipeline.yaml with the key, e.g.',
        '       clean:',
        '         max_hold_ms: <value>',
        '1 error',
      ),
    );
  });

  it('a params.yaml that does not parse is reported at its own place', () => {
    const yaml = lines(
      'stages:',
      '  clean:',
      '    cmd: stages/clean.mjs',
      '    params: [clean.max_hold_ms]',
    );
    expect(refused(yaml, { 'params.yaml': lines('clean:', '  max_hold_ms: [5000') })).toBe(
      lines(
        'params.yaml:3:1: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
        '    3 |',
        '      | ^',
        '  fix: close the list with "]" on the line where it opens',
        '1 error',
      ),
    );
  });

  it('a cmd script that does not exist', () => {
    const yaml = lines('stages:', '  clean:', '    cmd: stages/clean.ts');
    expect(refused(yaml)).toBe(
      lines(
        'pipeline.yaml:3:10: error: cmd "stages/clean.ts" of stage "clean" does not exist',
        '    3 |     cmd: stages/clean.ts',
        '      |          ^~~~~~~~~~~~~~~',
        '  fix: create the script, or fix the path (it is relative to the workspace)',
        '1 error',
      ),
    );
  });

  it('no pipeline.yaml here or above: says where it looked and how to start', () => {
    const ws = tempWorkspace({});
    const r = ws.pipe('dag');
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      lines(
        `pipe: error: no pipeline.yaml in ${ws.dir} or any folder above it`,
        '  fix: run pipe inside a workspace (or pass -C <folder>), or start one with a pipeline.yaml like:',
        '         # yaml-language-server: $schema=config/pipeline.schema.json',
        '         stages:',
        '           hello:',
        '             cmd: stages/hello.mjs',
        '             deps: [data/input.txt]',
        '             outs: [data/hello.txt]',
      ),
    );
  });
});

describe('loadPipeline on a valid file (in process)', () => {
  it('keeps every value with its place, and normalises paths', async () => {
    const { loadPipeline } = await import('../lib/pipeline/pipeline-file.js');
    const yaml = lines(
      'stages:',
      '  clean:', //                                line 2, column 3
      // Offsets: line 1 `stages:\n` is 0-7, line 2 starts at 8, line 3 at 17, line 4 at 45.
      '    cmd: ./stages/clean.mjs', //             line 3, column 10 (offset 26), 18 characters
      '    deps: [data\\raw/, "uploads/./a.json"]', // line 4: `data\raw/` at column 12 (offset 56, 9 chars), the quoted one at 23 (offset 67, 18 chars)
      '    outs: [data/clean/]',
      '    params: [clean.max_hold_ms]',
      '    env: [TZ]',
      '    desc: drop impossible keystrokes',
      '    incremental: true',
    );
    const ws = tempWorkspace({
      ...scripts,
      'pipeline.yaml': yaml,
      'data/raw/x.tsv': '',
      'uploads/a.json': '{}',
      'params.yaml': 'clean: {max_hold_ms: 5000}\n',
    });
    const loaded = await loadPipeline(ws.dir);
    if (!loaded.ok) throw new Error(loaded.error.map((e) => e.message).join('\n'));
    expect(loaded.value.warnings).toEqual([]);
    expect(loaded.value.pipeline.root).toBe(ws.dir);
    expect(loaded.value.pipeline.file).toBe(`${ws.dir}/pipeline.yaml`);
    expect(loaded.value.pipeline.stages.get('clean' as never)).toEqual({
      name: 'clean',
      nameRange: { offset: 10, length: 5, line: 2, column: 3 },
      desc: 'drop impossible keystrokes',
      incremental: true,
      cmd: { value: 'stages/clean.mjs', range: { offset: 26, length: 18, line: 3, column: 10 } },
      deps: [
        { value: 'data/raw', range: { offset: 56, length: 9, line: 4, column: 12 } },
        { value: 'uploads/a.json', range: { offset: 67, length: 18, line: 4, column: 23 } },
      ],
      outs: [
        {
          value: 'data/clean',
          range: expect.objectContaining({ line: 5, column: 12, length: 11 }),
        },
      ],
      params: [
        { value: 'clean.max_hold_ms', range: expect.objectContaining({ line: 6, column: 14 }) },
      ],
      env: [{ value: 'TZ', range: expect.objectContaining({ line: 7, column: 11, length: 2 }) }],
    });
  });
});

describe('config/pipeline.schema.json', () => {
  it('names the same stage keys the loader reads, so editors and pipe agree', async () => {
    const { readFileSync } = await import('node:fs');
    const { stageKeys } = await import('../lib/pipeline/schema.js');
    const schema = JSON.parse(
      readFileSync(new URL('../config/pipeline.schema.json', import.meta.url), 'utf8'),
    ) as {
      $schema: string;
      definitions: { stage: { properties: Record<string, unknown> } };
    };
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(Object.keys(schema.definitions.stage.properties).sort()).toEqual([...stageKeys].sort());
  });

  it('is what lib/pipeline/schema-validator.ts was generated from (else: npm run generate:schema)', async () => {
    const { readFileSync } = await import('node:fs');
    const { validatorPath, validatorSource } = await import(
      '../scripts/generate-schema-validator.js'
    );
    expect(readFileSync(validatorPath, 'utf8')).toBe(validatorSource());
  });
});
