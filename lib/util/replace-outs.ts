// Replacing a set of outputs as one transaction that a SIGKILL may cut anywhere. Each out goes in
// by two renames (the old one aside, the new one in: replaceByRename), so between them the out is
// absent, and a run killed half-way through a list holds some new outs beside some old ones. A
// journal in the temp folder names every move before the first rename and is deleted after the
// last: that deletion is the commit point. A journal found later means the replacement never
// committed (and the lock was never updated for it, since callers write the lock after this
// returns), so the next mutex holder rolls it back: every out as it was before, which is what the
// lock still describes. A move may be a whole out or one file inside one (a stage that writes only
// what changed), and a removal is a move aside with nothing put in its place.
//
//   journal written ─▶ old₁ aside, new₁ in ─▶ … ─▶ oldₙ aside, newₙ in ─▶ journal deleted ─▶ old/ deleted
//   killed anywhere before "journal deleted" ─▶ rollBackReplacement restores old₁…oldₙ
import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { replaceByRename, writeFileAtomic } from './atomic-write.js';

const JOURNAL = 'replacing.json';

/**
 * One out (or one file inside an out): its workspace-relative path and where its new content is
 * staged (also relative); without `staged` it is removed (moved aside with the old ones).
 */
export interface Move {
  readonly rel: string;
  readonly staged?: string;
}

/** Puts every staged out in place as one unit (see above); `tmp` is the caller's temp folder. */
export async function replaceOuts(
  workspace: string,
  tmp: string,
  moves: readonly Move[],
): Promise<void> {
  const journal = join(tmp, JOURNAL);
  // Relative paths: a workspace moved or copied after a kill still rolls back within itself.
  await writeFileAtomic(journal, `${JSON.stringify({ moves })}\n`);
  const aside = join(tmp, 'old');
  for (const m of moves) {
    if (m.staged !== undefined)
      await replaceByRename(workspace, m.rel, join(workspace, m.staged), aside);
    else await moveAside(workspace, m.rel, aside);
  }
  await rm(journal);
  await rm(aside, { recursive: true, force: true });
}

async function moveAside(workspace: string, rel: string, aside: string): Promise<void> {
  const old = join(aside, rel);
  await mkdir(dirname(old), { recursive: true });
  try {
    await rename(join(workspace, rel), old);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A journal's path stays inside the workspace (the journal is ours, but a bad one must not roam). */
function inside(rel: unknown): rel is string {
  if (typeof rel !== 'string' || rel === '' || isAbsolute(rel)) return false;
  const n = normalize(rel);
  return n !== '..' && !n.startsWith(`..${sep}`);
}

function readMoves(journal: string): Move[] | undefined {
  try {
    const parsed = JSON.parse(readFileSync(journal, 'utf8')) as { moves?: unknown };
    if (!Array.isArray(parsed.moves)) return undefined;
    const moves = parsed.moves as { rel?: unknown; staged?: unknown }[];
    const valid = moves.every((m) => inside(m.rel) && (m.staged === undefined || inside(m.staged)));
    return valid ? (moves as Move[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Undoes the uncommitted replacement `tmp` holds, if any; returns the outs it restored. Only a
 * holder of the build mutex may call it (a running replacement looks exactly like a killed one).
 * Idempotent, so a kill during the rollback is finished by the next one.
 */
export function rollBackReplacement(workspace: string, tmp: string): string[] {
  const journal = join(tmp, JOURNAL);
  if (!existsSync(journal)) return [];
  const moves = readMoves(journal);
  // An unreadable journal (written atomically, so only by hand) is left for the debris sweep.
  if (moves === undefined) return [];
  const restored: string[] = [];
  for (const m of moves) {
    const final = join(workspace, m.rel);
    const old = join(tmp, 'old', m.rel);
    if (present(old)) {
      rmSync(final, { recursive: true, force: true });
      mkdirSync(dirname(final), { recursive: true });
      renameSync(old, final);
      restored.push(m.rel);
    } else if (m.staged !== undefined && !present(join(workspace, m.staged)) && present(final)) {
      // Moved in where nothing was before: before the replacement there was no such out.
      rmSync(final, { recursive: true, force: true });
      restored.push(m.rel);
    }
  }
  rmSync(journal, { force: true });
  return restored;
}
