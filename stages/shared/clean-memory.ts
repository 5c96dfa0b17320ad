// DuckDB settings for stage clean, the one stage whose DuckDB work outgrows memory at scale.
// DUCKDB_MEMORY_LIMIT caps DuckDB's buffer pool only; the process around it also holds V8's heap
// and DuckDB's own allocations outside the pool, and at 10M keystrokes clean (with the runner
// beside it) must stay under 2 GB in all. So clean caps the pool lower than the shared default and
// lets DuckDB spill its sorts and windows to a folder inside the stage's temporary folder.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sqlString, type Db } from '../duckdb.js';

/** The most clean gives DuckDB's buffer pool, even when DUCKDB_MEMORY_LIMIT allows more. */
export const CLEAN_MEMORY_CAP = 640 * 2 ** 20;

const UNIT: Record<string, number> = { K: 1, M: 2, G: 3, T: 4 };

/** Bytes in a DuckDB size string as duckdb.ts accepts it (`2GB` = 2e9, `512MiB` = 512 * 2^20). */
export function sizeBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT])(i?)B$/i.exec(size.trim());
  if (m === null) throw new Error(`bug: ${size} is not a size duckdb.ts would accept`);
  return Number(m[1]) * (m[3] === '' ? 1000 : 1024) ** UNIT[m[2]!.toUpperCase()]!;
}

/** `cap` is for bench/clean-profile.ts, to measure other caps; the stage uses the default. */
export async function limitCleanMemory(
  db: Db,
  tempRoot: string,
  cap = CLEAN_MEMORY_CAP,
): Promise<void> {
  const [row] = await db.rows<{ limit: string }>(
    `SELECT current_setting('memory_limit') AS "limit"`,
  );
  const configured = row === undefined ? cap : sizeBytes(row.limit);
  const spill = join(tempRoot, 'duckdb-spill');
  mkdirSync(spill, { recursive: true });
  await db.run(`SET memory_limit = '${Math.floor(Math.min(configured, cap) / 2 ** 20)}MiB'`);
  await db.run(`SET temp_directory = ${sqlString(spill)}`);
  // Every COPY clean makes is of a query whose order comes from an ORDER BY (rejects and sessions
  // end in one; keystrokes counts seq with a streaming window over a sorted subquery, a
  // single-threaded pipeline that keeps that order). DuckDB keeps such an order either way (a COPY
  // of a table would not: its row groups could land in any order); without the promise to keep
  // the order of everything else, its operators need not buffer to restore it.
  await db.run(`SET preserve_insertion_order = false`);
  // Freed memory goes back to the system sooner: DuckDB's allocator otherwise keeps up to
  // 128 MiB per task and 512 MiB after a bulk free as RSS, above the pool's cap.
  await db.run(`SET allocator_background_threads = true`);
  await db.run(`SET allocator_flush_threshold = '32MiB'`);
  await db.run(`SET allocator_bulk_deallocation_flush_threshold = '64MiB'`);
}
