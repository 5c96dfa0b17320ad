// `pipe params diff [A B]`: which declared params differ, and which stages read them, like
// `dvc params diff`. With no arguments: pipeline.lock (what the outputs were built with) against
// params.yaml now. With two: each side is `workspace`, `lock`, or a version ID or ref on the
// remote (its manifest records every stage's params as its lock entry did).
import type { Command } from 'commander';
import type { CommandOutcome } from './outcome.js';
import { ExitCode } from '../util/exit-codes.js';

interface ParamsFlags {
  json?: boolean;
  all?: boolean;
  remote?: string;
}

export const PARAMS_DIFF_SCHEMA = 1;

/** stage -> dotted key -> value (undefined: the stage does not read it on that side). */
type Side = ReadonlyMap<string, Readonly<Record<string, unknown>>>;

export function defineParams(program: Command, outcome: CommandOutcome): void {
  const params = program
    .command('params')
    .description('the params stages read (`npx pipe params diff`)');
  params
    .command('diff')
    .description('params that differ: pipeline.lock against params.yaml, or between two sides')
    .argument('[a]', 'workspace, lock, or a version ID or ref (default: lock)')
    .argument('[b]', 'workspace, lock, or a version ID or ref (default: workspace)')
    .option('--all', 'list unchanged params too')
    .option('--json', 'print a JSON document instead of a table')
    .option('--remote <url>', 'file:///path or gs://bucket/prefix (default: PIPE_REMOTE)')
    .addHelpText(
      'after',
      '\nExamples:\n  npx pipe params diff                    # what a build would re-run for\n' +
        '  npx pipe params diff current workspace  # against the published version `current`\n' +
        'Exit codes: 0 ok (differences or not), 2 usage, 3 invalid pipeline.yaml or params.yaml, 6 remote error.',
    )
    .action(async (a: string | undefined, b: string | undefined, _o: ParamsFlags, cmd: Command) => {
      const { startFolder } = await import('./outcome.js');
      outcome.code = await diffCommand(startFolder(cmd), a ?? 'lock', b ?? 'workspace', {
        ...cmd.opts<ParamsFlags>(),
      });
    });
}

async function diffCommand(
  start: string,
  a: string,
  b: string,
  flags: ParamsFlags,
): Promise<ExitCode> {
  const { loadBuildState } = await import('../build/build-state.js');
  const opened = await loadBuildState(start, process.stderr);
  if (!opened.ok) return opened.code;
  const ws = opened.value;
  const sides: Side[] = [];
  for (const name of [a, b]) {
    const side = await readSide(ws, name, flags.remote);
    if (typeof side === 'number') return side;
    sides.push(side);
  }
  const rows = diffRows(sides[0]!, sides[1]!).filter((r) => flags.all === true || r.changed);
  if (flags.json) {
    const doc = { schema: PARAMS_DIFF_SCHEMA, a, b, params: rows };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    process.stdout.write(`no param differs between ${a} and ${b}\n`);
    return ExitCode.ok;
  }
  const show = (v: unknown) => (v === undefined ? '-' : JSON.stringify(v));
  const table = [
    ['param', a, b, 'read by'],
    ...rows.map((r) => [r.key, show(r.a), show(r.b), r.stages.join(', ')]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  process.stdout.write(
    `${table
      .map((row) =>
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n')}\n`,
  );
  return ExitCode.ok;
}

interface Row {
  readonly key: string;
  readonly a?: unknown;
  readonly b?: unknown;
  readonly changed: boolean;
  readonly stages: readonly string[];
}

/** One row per dotted key either side has, sorted; values compared as JSON. */
export function diffRows(a: Side, b: Side): Row[] {
  const keys = new Map<string, { a?: unknown; b?: unknown; stages: Set<string> }>();
  for (const [which, side] of [
    ['a', a],
    ['b', b],
  ] as const) {
    for (const [stage, values] of side) {
      for (const [key, value] of Object.entries(values)) {
        const row = keys.get(key) ?? { stages: new Set<string>() };
        row[which] = value;
        row.stages.add(stage);
        keys.set(key, row);
      }
    }
  }
  return [...keys.entries()]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([key, r]) => ({
      key,
      ...(r.a === undefined ? {} : { a: r.a }),
      ...(r.b === undefined ? {} : { b: r.b }),
      changed: JSON.stringify(r.a) !== JSON.stringify(r.b),
      stages: [...r.stages].sort(),
    }));
}

type BuildState = import('../build/build-state.js').BuildState;

async function readSide(
  ws: BuildState,
  name: string,
  remoteFlag: string | undefined,
): Promise<Side | ExitCode> {
  if (name === 'lock') {
    return new Map(Object.entries(ws.lock.stages).map(([stage, e]) => [stage, e.params]));
  }
  if (name === 'workspace') {
    const { loadParams, paramValue } = await import('../pipeline/params-file.js');
    const params = await loadParams(ws.root);
    if (!params.ok) return ExitCode.invalidPipeline; // loadBuildState already said why
    return new Map(
      [...ws.pipeline.stages.values()].map((s) => [
        s.name,
        Object.fromEntries(s.params.map((k) => [k.value, paramValue(params.value, k.value)])),
      ]),
    );
  }
  const { openConfiguredRemote } = await import('../remote/open.js');
  const { fetchManifest, resolveVersion } = await import('../versions/fetch.js');
  const { describeVersionError } = await import('../versions/version-error.js');
  const remote = await openConfiguredRemote(ws.config, ws.root, remoteFlag);
  if (!remote.ok) {
    process.stderr.write(`pipe params diff: ${remote.error}\n`);
    return ExitCode.usage;
  }
  const id = await resolveVersion(remote.value, name);
  const got = id.ok ? await fetchManifest(remote.value, ws.root, id.value) : id;
  if (!got.ok) {
    process.stderr.write(
      `pipe params diff: ${name}: ${describeVersionError(got.error)} (a side is workspace, lock, or a version ID or ref)\n`,
    );
    return got.error.kind === 'invalid' && !id.ok ? ExitCode.usage : ExitCode.remote;
  }
  return new Map(Object.entries(got.value.stages).map(([stage, s]) => [stage, s.lock.params]));
}
