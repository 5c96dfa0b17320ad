// Loads clean's inputs into DuckDB tables the clean*.sql files read. Kept apart from the SQL so
// the SQL never sees file lists; every path goes in as a quoted SQL string literal.
import { readFileSync } from 'node:fs';
import { sqlPathList, sqlString, type Db } from '../duckdb.js';
import type { FileReject, UploadLimits } from './file-rejects.js';

/** file_rejects(rule, source, source_file, source_line, user_id, session_id, detail): one row per file not read. */
export async function loadFileRejects(db: Db, rejects: readonly FileReject[]): Promise<void> {
  await db.run(`CREATE TEMP TABLE file_rejects (rule VARCHAR, source VARCHAR, source_file VARCHAR, source_line INTEGER,
    user_id VARCHAR, session_id VARCHAR, detail VARCHAR)`);
  const lit = (v: string | null) => (v === null ? 'NULL' : sqlString(v));
  for (let i = 0; i < rejects.length; i += 500) {
    const values = rejects
      .slice(i, i + 500)
      .map(
        (r) =>
          `(${lit(r.rule)}, ${lit(r.source)}, ${lit(r.sourceFile)}, NULL, ${lit(r.userId)}, ${lit(r.sessionId)}, ${lit(r.detail)})`,
      );
    await db.run(`INSERT INTO file_rejects VALUES ${values.join(', ')}`);
  }
}

const EVENT =
  'STRUCT(t DOUBLE, "type" VARCHAR, "key" VARCHAR, code VARCHAR, "keyCode" INTEGER, "repeat" BOOLEAN, composing BOOLEAN)';

/**
 * From the staging (stages/shared/webapp-slice.ts): webapp_files(file_id, source_file, user_id,
 * session_id, platform, prompt, text, time_origin), a small table, one row per accepted upload; and
 * webapp_uploads(file_id, events[]), a view over the staged documents (read once, by the pairing;
 * unknown fields are not read). `superseded` are the file_ids of valid uploads that lost to an
 * earlier copy of their session: both leave them out.
 */
export async function loadWebapp(
  db: Db,
  staged: { readonly files: readonly string[]; readonly events: readonly string[] },
  superseded: readonly number[],
  limits: UploadLimits,
): Promise<void> {
  await db.run(`CREATE TEMP TABLE webapp_superseded (file_id INTEGER)`);
  for (let i = 0; i < superseded.length; i += 1000) {
    await db.run(
      `INSERT INTO webapp_superseded VALUES ${superseded
        .slice(i, i + 1000)
        .map((id) => `(${id})`)
        .join(', ')}`,
    );
  }
  await db.run(`CREATE TEMP TABLE webapp_files AS
    SELECT * FROM read_json(${sqlPathList(staged.files)}, format = 'newline_delimited',
      columns = {file_id: 'INTEGER', source_file: 'VARCHAR', user_id: 'VARCHAR', session_id: 'VARCHAR', platform: 'VARCHAR',
                 prompt: 'VARCHAR', text: 'VARCHAR', time_origin: 'DOUBLE'})
    WHERE file_id NOT IN (SELECT file_id FROM webapp_superseded)`);
  await db.run(`CREATE TEMP VIEW webapp_uploads AS
    SELECT file_id, upload.events AS events
    FROM read_json(${sqlPathList(staged.events)}, format = 'newline_delimited', maximum_object_size = ${stagedObjectLimit(limits)},
           columns = {file_id: 'INTEGER', upload: 'STRUCT(events ${EVENT}[])'})
    WHERE file_id NOT IN (SELECT file_id FROM webapp_superseded)`);
}

/**
 * DuckDB's cap on one staged line, `{"file_id":N,"upload":<document>}`: the document is the
 * upload's text (gunzipped), so no larger than the size limits plus the wrapper. At the default
 * limits the 32 MiB DuckDB had here before; raising a limit raises it.
 */
function stagedObjectLimit(limits: UploadLimits): number {
  return Math.max(32 * 2 ** 20, Math.max(limits.maxUploadBytes, limits.maxDecompressedBytes) + 64);
}

/** Files per batch: at ~80 KB each, a few tens of MB of text in flight per connection, whatever the total. */
const AALTO_BATCH_FILES = 256;

/**
 * aalto_files(file_id, read_path, source_file), and aalto_parsed: every data line of every Aalto
 * file (UTF-8) parsed by clean.aalto-batch.sql, one batch of files at a time (the view aalto_text
 * reads the files the connection's variable aalto_batch_files names), so the parse never holds
 * more than a batch of text and its lists of lines and fields per connection (at 10M keystrokes,
 * all at once: ~800 MB).
 * A batch's plan starts from a scan of a few hundred rows (one per file), which DuckDB runs on
 * one thread however many lines they unnest into; so batches run on one connection per DuckDB
 * thread at once (10M keystrokes: one connection 29.2 s, two 20.0 s, same rows; 1M: 1.98 s and
 * 1.35 s, bench/work profile on a loaded machine). The two tables are in the database, not TEMP,
 * so every connection appends to the same aalto_parsed; the order rows land in does not matter
 * (everything after reads it by file_id and line_no, and the outputs are sorted).
 */
export async function loadAalto(db: Db, files: ReadonlyMap<string, string>): Promise<void> {
  await db.run(`CREATE TABLE aalto_files (file_id INTEGER, read_path VARCHAR, source_file VARCHAR);
    CREATE TABLE aalto_parsed (file_id INTEGER, line_no INTEGER, rule VARCHAR, user_id VARCHAR, session_id VARCHAR,
      press_ms DOUBLE, release_ms DOUBLE, key VARCHAR, keycode INTEGER, detail VARCHAR, carries BOOLEAN, prompt VARCHAR, typed_text VARCHAR)`);
  if (files.size === 0) return;
  const rows = [...files].map(
    ([source, read], id) => `(${id}, ${sqlString(read)}, ${sqlString(source)})`,
  );
  await db.run(`INSERT INTO aalto_files VALUES ${rows.join(', ')}`);
  const batchSql = readFileSync(new URL('../clean.aalto-batch.sql', import.meta.url), 'utf8');
  const paths = [...files.values()];
  // Fewer files than a batch per thread (an incremental run's new part): split evenly, so each
  // thread parses some (100 new files: one batch took 89 ms, two at once about half).
  const perBatch = Math.min(AALTO_BATCH_FILES, Math.ceil(paths.length / db.threads));
  const batches: string[][] = [];
  for (let i = 0; i < paths.length; i += perBatch) batches.push(paths.slice(i, i + perBatch));
  let next = 0;
  const parseBatches = async (conn: Db): Promise<void> => {
    let viewMade = false;
    for (let b = next++; b < batches.length; b = next++) {
      // Escaped for read_text's glob (sqlPath); its `filename` is the real path, as in aalto_files.
      await conn.run(`SET VARIABLE aalto_batch_files = ${sqlPathList(batches[b]!)}`);
      // A view is bound again at each use, so it reads the batch the variable names now (and
      // can only be made once the variable holds a list).
      if (!viewMade) {
        await conn.run(`CREATE TEMP VIEW aalto_text AS
          SELECT f.file_id, t.content FROM read_text(getvariable('aalto_batch_files')) t
          JOIN aalto_files f ON t.filename = f.read_path`);
        viewMade = true;
      }
      await conn.run(batchSql);
    }
  };
  const connections = [db];
  for (let c = 1; c < Math.min(db.threads, batches.length); c++)
    connections.push(await db.connect());
  try {
    await Promise.all(connections.map((conn) => parseBatches(conn)));
  } finally {
    for (const conn of connections.slice(1)) conn.close();
  }
}
