// The YAML tree of pipeline.yaml -> stage drafts whose every value keeps its source range.
// Lenient by design: the JSON Schema check reports wrong shapes; this keeps whatever is well
// formed so later rules can still find the other problems in the same pass.
import { posix } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import {
  cmdScript,
  isSourceDep,
  type Located,
  type Stage,
  type StageName,
} from '../graph/stage.js';
import { deref, nodeRange } from './yaml-source.js';
import type { YamlSource } from './yaml-source.js';

/** A stage as written; `cmd` is undefined when it is missing or not a string (already reported). */
export type StageDraft = Omit<Stage, 'cmd'> & { readonly cmd: Located<string> | undefined };

export function shapeStages(source: YamlSource): StageDraft[] {
  // A stage written twice (reported by the YAML check) is shaped from both definitions, so the
  // outs of either one count as made and no second error cascades from the first.
  const stages: StageDraft[] = [];
  const root = deref(source, source.doc.contents);
  if (!isMap(root)) return [];
  const stagesNode = deref(source, root.get('stages', true));
  if (!isMap(stagesNode)) return [];
  for (const pair of stagesNode.items) {
    if (!isScalar(pair.key)) continue;
    const name = String(pair.key.value);
    const value = deref(source, pair.value);
    const body = isMap(value) ? value : undefined;
    const field = (key: string): Node | undefined => deref(source, body?.get(key, true));
    const cmdNode = field('cmd');
    const descNode = field('desc');
    const incrementalNode = field('incremental');
    stages.push({
      name: name as StageName,
      nameRange: nodeRange(source, pair.key as Node),
      desc: isScalar(descNode) && typeof descNode.value === 'string' ? descNode.value : undefined,
      incremental:
        isScalar(incrementalNode) &&
        (incrementalNode.value === true || incrementalNode.value === 'changes'),
      ...(isScalar(incrementalNode) && incrementalNode.value === 'changes'
        ? { incrementalOuts: 'changes' as const }
        : {}),
      cmd:
        isScalar(cmdNode) && typeof cmdNode.value === 'string'
          ? locatedCmd(source, cmdNode)
          : undefined,
      // An upload source (file://, gs://, ${NAME}) is a URL, kept as written.
      deps: strings(source, field('deps')).map((s) => (isSourceDep(s.value) ? s : normalised(s))),
      outs: strings(source, field('outs')).map((s) => normalised(s)),
      params: strings(source, field('params')),
      env: strings(source, field('env')),
    });
  }
  return stages;
}

function strings(source: YamlSource, node: Node | undefined): Located<string>[] {
  if (!isSeq(node)) return [];
  const found: Located<string>[] = [];
  for (const item of node.items.map((i) => deref(source, i))) {
    if (isScalar(item) && typeof item.value === 'string') {
      found.push({ value: item.value, range: nodeRange(source, item) });
    }
  }
  return found;
}

/** A node script's path is normalised like any path; a command line is kept as written. */
function locatedCmd(source: YamlSource, node: Node): Located<string> {
  const cmd = {
    value: String((node as { value: unknown }).value),
    range: nodeRange(source, node),
  };
  return cmdScript(cmd.value) === undefined ? cmd : normalised(cmd);
}

function normalised(p: Located<string>): Located<string> {
  return { value: normalisePath(p.value), range: p.range };
}

/**
 * A declared path in one spelling: POSIX separators, `.` and `..` segments folded, no leading
 * `./`, no trailing slash. `..` at the start stays so the escape check can see it.
 */
export function normalisePath(declared: string): string {
  const posixPath = declared.replaceAll('\\', '/');
  let p = posix.normalize(posixPath);
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}
