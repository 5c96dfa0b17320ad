// The pure graph functions, in process, with expectations derived by hand from the pictures.
import { describe, expect, it } from 'vitest';
import {
  buildGraph,
  findCycles,
  selectWithAncestors,
  stageEdges,
  topologicalOrder,
} from '../lib/graph/graph.js';
import { globBase, pathContains } from '../lib/util/paths.js';
import type { Edge } from '../lib/graph/graph.js';
import type { Located, Pipeline, Stage, StageName } from '../lib/graph/stage.js';

const at = { offset: 0, length: 0, line: 1, column: 1 };
const loc = (value: string): Located<string> => ({ value, range: at });

function stage(name: string, deps: string[], outs: string[]): Stage {
  return {
    name: name as StageName,
    nameRange: at,
    desc: undefined,
    incremental: false,
    cmd: loc(`stages/${name}.mjs`),
    deps: deps.map(loc),
    outs: outs.map(loc),
    params: [],
    env: [],
  };
}

function pipeline(...stages: Stage[]): Pipeline {
  return {
    root: '/ws',
    file: '/ws/pipeline.yaml',
    stages: new Map(stages.map((s) => [s.name, s])),
  };
}

const names = (...n: string[]) => n as StageName[];
const pairs = (edges: readonly Edge[]) =>
  edges.map((e) => `${e.from}->${e.to} (${e.out.value} feeds ${e.dep.value})`);
const cycleNames = (cycle: readonly Edge[]) =>
  [...cycle.map((e) => e.from), cycle[0]!.from].join(' -> ');

describe('paths', () => {
  it('pathContains: equal, inside, and not a mere string prefix', () => {
    expect(pathContains('data/clean', 'data/clean')).toBe(true);
    expect(pathContains('data/clean', 'data/clean/a.parquet')).toBe(true);
    expect(pathContains('data/clean', 'data/cleaner')).toBe(false); // a prefix, but another folder
    expect(pathContains('data/clean/a', 'data/clean')).toBe(false);
    expect(pathContains('.', 'anything/at/all')).toBe(true);
  });

  it('globBase: the segments before the first wildcard', () => {
    expect(globBase('uploads/**/*.json')).toBe('uploads');
    expect(globBase('data/raw/*/session-?.json')).toBe('data/raw');
    expect(globBase('*.csv')).toBe('.');
    expect(globBase('data/{a,b}/x.csv')).toBe('data');
  });
});

describe('edges', () => {
  it('an out feeds an equal dep, a dep inside it, a dep folder around it, and a glob under it', () => {
    //   download ─data/raw─▶ clean     (equal)
    //   download ─data/raw─▶ audit     (audit reads data/raw/manifest.json, inside the out)
    //   download ─data/raw─▶ sizes     (sizes reads all of data/, which holds the out)
    //   download ─data/raw─▶ jsons     (glob data/raw/**/*.json, base data/raw)
    //   nothing feeds other: data/rawer only shares a string prefix
    const edges = stageEdges([
      stage('download', ['uploads'], ['data/raw']),
      stage('clean', ['data/raw'], ['data/clean']),
      stage('audit', ['data/raw/manifest.json'], ['reports/audit.txt']),
      stage('sizes', ['data'], ['reports/sizes.txt']),
      stage('jsons', ['data/raw/**/*.json'], ['reports/jsons.txt']),
      stage('other', ['data/rawer'], ['reports/other.txt']),
    ]);
    expect(pairs(edges)).toEqual([
      'download->clean (data/raw feeds data/raw)',
      'download->audit (data/raw feeds data/raw/manifest.json)',
      'download->sizes (data/raw feeds data)',
      'clean->sizes (data/clean feeds data)',
      'download->jsons (data/raw feeds data/raw/**/*.json)',
    ]);
  });
});

describe('topological order', () => {
  it('is stable by declaration order among independent stages', () => {
    //   a ──▶ c        b has no edges; declared order a, b, c, d
    //   d ──▶ c
    const p = pipeline(
      stage('a', [], ['x/a']),
      stage('b', [], ['x/b']),
      stage('c', ['x/a', 'x/d'], ['x/c']),
      stage('d', [], ['x/d']),
    );
    // By hand: ready first = a, b, d (declared order); c waits for a and d. Kahn picks the
    // first-declared ready stage each time: a, b, then c is not ready (d missing), so d, then c.
    expect(buildGraph(p).order).toEqual(['a', 'b', 'd', 'c']);
  });

  it('puts a stage declared before its upstream after it', () => {
    const p = pipeline(
      stage('report', ['data/clean'], ['reports']),
      stage('clean', ['uploads'], ['data/clean']),
    );
    expect(buildGraph(p).order).toEqual(['clean', 'report']);
  });

  it('is undefined on a cycle', () => {
    const s = [stage('a', ['x/b'], ['x/a']), stage('b', ['x/a'], ['x/b'])];
    expect(topologicalOrder(names('a', 'b'), stageEdges(s))).toBeUndefined();
  });
});

describe('upstream, downstream and ancestors', () => {
  //   download ─▶ clean ─▶ keypairs ─▶ features
  //                  │                    ▲
  //                  └───────▶ report ◀───┘ (report reads clean and features)
  //   lint (alone)
  const p = pipeline(
    stage('download', ['uploads'], ['data/raw']),
    stage('clean', ['data/raw'], ['data/clean']),
    stage('lint', ['stages'], ['reports/lint.txt']),
    stage('keypairs', ['data/clean'], ['data/keypairs']),
    stage('features', ['data/keypairs'], ['data/features']),
    stage('report', ['data/clean', 'data/features'], ['reports/eda']),
  );
  const g = buildGraph(p);

  it('lists neighbours in declaration order', () => {
    expect(g.upstream('report' as StageName)).toEqual(['clean', 'features']);
    expect(g.downstream('clean' as StageName)).toEqual(['keypairs', 'report']);
    expect(g.upstream('download' as StageName)).toEqual([]);
    expect(g.downstream('lint' as StageName)).toEqual([]);
  });

  it('selects the targets and all their ancestors, topologically', () => {
    expect(selectWithAncestors(g, names('keypairs'))).toEqual(['download', 'clean', 'keypairs']);
    expect(selectWithAncestors(g, names('report'))).toEqual([
      'download',
      'clean',
      'keypairs',
      'features',
      'report',
    ]);
    expect(selectWithAncestors(g, names('lint', 'clean'))).toEqual(['download', 'clean', 'lint']);
    expect(selectWithAncestors(g, [])).toEqual([]);
  });

  it('refuses a pipeline with a cycle (validation reports those first)', () => {
    expect(() => buildGraph(pipeline(stage('a', ['x/a'], ['x/a'])))).toThrow(
      /bug: buildGraph called on a pipeline with a cycle/,
    );
  });
});

describe('cycles', () => {
  it('names each cycle once, from its first-declared stage, with every edge', () => {
    //   a ─▶ b ─▶ c ─▶ a      and separately   d ─▶ e ─▶ d     and f alone
    const s = [
      stage('a', ['x/c'], ['x/a']),
      stage('b', ['x/a'], ['x/b']),
      stage('c', ['x/b'], ['x/c']),
      stage('d', ['y/e'], ['y/d']),
      stage('e', ['y/d'], ['y/e']),
      stage('f', ['x/a'], ['z/f']),
    ];
    const cycles = findCycles(names('a', 'b', 'c', 'd', 'e', 'f'), stageEdges(s));
    expect(cycles.map(cycleNames)).toEqual(['a -> b -> c -> a', 'd -> e -> d']);
    expect(
      cycles[0]!.map((e) => `${e.dep.value} (dep of ${e.to}) is ${e.out.value} (out of ${e.from})`),
    ).toEqual([
      'x/a (dep of b) is x/a (out of a)',
      'x/b (dep of c) is x/b (out of b)',
      'x/c (dep of a) is x/c (out of c)',
    ]);
  });

  it('reports a group with two loops once, by its shortest loop through the first stage', () => {
    //   a ⇄ b, and b ─▶ c ─▶ a: one strongly connected group {a, b, c}
    const s = [
      stage('a', ['x/b', 'x/c'], ['x/a']),
      stage('b', ['x/a'], ['x/b']),
      stage('c', ['x/b'], ['x/c']),
    ];
    expect(findCycles(names('a', 'b', 'c'), stageEdges(s)).map(cycleNames)).toEqual([
      'a -> b -> a',
    ]);
  });

  it('a stage reading its own out is a cycle of one', () => {
    const s = [
      stage('report', ['reports/**/*.csv'], ['reports/all.csv']),
      stage('ok', ['reports/all.csv'], ['z']),
    ];
    expect(findCycles(names('report', 'ok'), stageEdges(s)).map(cycleNames)).toEqual([
      'report -> report',
    ]);
  });

  it('finds nothing in a DAG', () => {
    const s = [
      stage('a', [], ['x/a']),
      stage('b', ['x/a'], ['x/b']),
      stage('c', ['x/a', 'x/b'], ['x/c']),
    ];
    expect(findCycles(names('a', 'b', 'c'), stageEdges(s))).toEqual([]);
  });
});
