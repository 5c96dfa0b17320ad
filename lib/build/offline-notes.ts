// What --offline leaves unseen: each gs:// upload source of the shown stages, said in words, so
// "fresh" under --offline is never mistaken for "nothing new in the bucket".
import { isSourceDep, type StageName } from '../graph/stage.js';
import { resolveSourceDep } from '../pipeline/source-dep.js';
import type { BuildState } from './build-state.js';

export interface OfflineNote {
  readonly stage: StageName;
  readonly dep: string;
  readonly url: string;
  readonly text: string;
}

export function offlineNotes(ws: BuildState, stages: readonly StageName[]): OfflineNote[] {
  const notes: OfflineNote[] = [];
  for (const stage of stages) {
    for (const dep of ws.pipeline.stages.get(stage)?.deps ?? []) {
      if (!isSourceDep(dep.value)) continue;
      const target = resolveSourceDep(dep.value, ws.root, (name) => ws.config.get(name));
      if (!target.ok || target.value.kind !== 'bucket') continue;
      const url = target.value.url;
      notes.push({
        stage,
        dep: dep.value,
        url,
        text: `offline: ${url} (dep of ${stage}) not checked; ${stage} is judged as its last build saw it, so uploads added, replaced or deleted there since are not seen`,
      });
    }
  }
  return notes;
}
