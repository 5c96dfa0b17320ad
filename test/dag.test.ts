// `pipe dag` through the real CLI: the text tree, Mermaid, dot, JSON, targets, -C and usage errors.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lines, removeTempWorkspaces, tempWorkspace } from './support/workspace-rig.js';

afterEach(removeTempWorkspaces);

//   download ─▶ clean ─▶ keypairs ─▶ features
//                 │                     │
//                 └──────▶ report ◀─────┘
//   lint (reads only its own inputs)
const pipelineYaml = lines(
  '# yaml-language-server: $schema=config/pipeline.schema.json',
  'stages:',
  '  download:',
  '    cmd: stages/download.mjs',
  '    deps: [uploads]',
  '    outs: [data/raw]',
  '    desc: copy the uploads',
  '  clean:',
  '    cmd: stages/clean.mjs',
  '    deps: [data/raw]',
  '    outs: [data/clean]',
  '  lint:',
  '    cmd: stages/lint.mjs',
  '    deps: [stages/*.mjs]',
  '    outs: [reports/lint.txt]',
  '  keypairs:',
  '    cmd: stages/keypairs.mjs',
  '    deps: [data/clean]',
  '    outs: [data/keypairs]',
  '  features:',
  '    cmd: stages/features.mjs',
  '    deps: [data/keypairs]',
  '    outs: [data/features]',
  '  report:',
  '    cmd: stages/report.mjs',
  '    deps: [data/clean/counts.json, data/features]',
  '    outs: [reports/eda]',
);

function workspace() {
  const files: Record<string, string> = {
    'pipeline.yaml': pipelineYaml,
    'uploads/u1/s1.json': '{}',
  };
  for (const s of ['download', 'clean', 'lint', 'keypairs', 'features', 'report'])
    files[`stages/${s}.mjs`] = `// ${s}\n`;
  return tempWorkspace(files);
}

describe('pipe dag', () => {
  it('prints the whole graph as a tree; a stage reached twice says "(shown above)"', () => {
    const r = workspace().pipe('dag');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      lines(
        'download  # copy the uploads',
        '└── clean',
        '    ├── keypairs',
        '    │   └── features',
        '    │       └── report',
        '    └── report (shown above)',
        'lint',
      ),
    );
  });

  it('with targets, shows only them and what they read from', () => {
    const r = workspace().pipe('dag', 'keypairs', 'lint');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      lines('download  # copy the uploads', '└── clean', '    └── keypairs', 'lint'),
    );
  });

  it('--mermaid: every stage, then each edge once, in topological order', () => {
    // Topological order by hand: download, clean, lint, keypairs, features, report -> s0..s5.
    const r = workspace().pipe('dag', '--mermaid');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      lines(
        'flowchart TD',
        '  s0["download"]',
        '  s1["clean"]',
        '  s2["lint"]',
        '  s3["keypairs"]',
        '  s4["features"]',
        '  s5["report"]',
        '  s0 --> s1',
        '  s1 --> s3',
        '  s1 --> s5',
        '  s3 --> s4',
        '  s4 --> s5',
      ),
    );
  });

  it('--dot for a target', () => {
    const r = workspace().pipe('dag', '--dot', 'clean');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      lines(
        'digraph pipeline {',
        '  rankdir=TB;',
        '  node [shape=box];',
        '  "download";',
        '  "clean";',
        '  "download" -> "clean";',
        '}',
      ),
    );
  });

  it('--json names the paths behind each edge', () => {
    const r = workspace().pipe('dag', '--json', 'report');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      stages: { name: string; upstream: string[] }[];
      edges: unknown[];
    };
    expect(json.stages.map((s) => `${s.name} <- [${s.upstream.join(', ')}]`)).toEqual([
      'download <- []',
      'clean <- [download]',
      'keypairs <- [clean]',
      'features <- [keypairs]',
      'report <- [clean, features]',
    ]);
    expect(json.edges).toContainEqual({
      from: 'clean',
      to: 'report',
      out: 'data/clean',
      dep: 'data/clean/counts.json',
    });
    expect(json.edges).toHaveLength(5);
  });

  it('finds the workspace from a subfolder, and from -C', () => {
    const ws = workspace();
    mkdirSync(join(ws.dir, 'data/deep'), { recursive: true });
    const fromSub = ws.pipe('-C', 'data/deep', 'dag', 'clean');
    expect(fromSub.stdout).toBe(lines('download  # copy the uploads', '└── clean'));
    expect(fromSub.code).toBe(0);
  });

  it('an unknown target is a usage error with a suggestion', () => {
    const r = workspace().pipe('dag', 'feature');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'pipe dag: no stage named "feature" in pipeline.yaml (did you mean "features"?)\n',
    );
  });

  it('two output formats at once is a usage error', () => {
    const r = workspace().pipe('dag', '--dot', '--mermaid');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('pipe dag: choose one of --mermaid, --dot, --json\n');
  });

  it('-C to a folder that does not exist', () => {
    const ws = workspace();
    const r = ws.pipe('-C', 'nowhere', 'dag');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      lines(
        `pipe: error: cannot start in ${join(ws.dir, 'nowhere')}: no such folder`,
        '  fix: pass an existing folder to -C',
      ),
    );
  });
});
