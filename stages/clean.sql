-- Both sources' candidates -> the canonical keystroke table and the rejects table, for stages/clean.ts.
-- In:  webapp_candidates, aalto_candidates, webapp_event_rejects, aalto_row_rejects, file_rejects,
--      webapp_session_texts, aalto_session_texts;
--      variables max_hold_ms, min_keystrokes_per_session (params.yaml `clean.*`).
-- Out: keystrokes, rejects (docs/data-tables.md), as views: clean.ts streams each into its Parquet
--      file (a table would hold a second copy of every keystroke in memory at once), then reads the
--      files back for clean.sessions.sql and the summary.

CREATE OR REPLACE TEMP VIEW candidates AS
SELECT * FROM webapp_candidates UNION ALL BY NAME SELECT * FROM aalto_candidates;

-- Hold rules. A negative hold is a release paired with another press of the key in the source
-- data; a zero hold is a logging artefact; a very long one a stuck or re-paired key.
CREATE OR REPLACE TEMP VIEW hold_checked AS
SELECT *, release_ms - press_ms AS hold_ms,
       CASE WHEN release_ms - press_ms < 0 THEN 'hold_negative'
            WHEN release_ms - press_ms = 0 THEN 'hold_zero'
            WHEN release_ms - press_ms > getvariable('max_hold_ms') THEN 'hold_over_max' END AS rule
FROM candidates;

-- session_no numbers the sessions in output order: keystrokes then partitions and sorts by one
-- integer instead of three strings (the same order, as each session has exactly one number).
CREATE OR REPLACE TEMP TABLE session_sizes AS
SELECT *, row_number() OVER (ORDER BY source, user_id, session_id)::INTEGER AS session_no FROM (
  SELECT source, user_id, session_id, count(*)::INTEGER AS n
  FROM hold_checked WHERE rule IS NULL GROUP BY ALL
);

-- A view: keystrokes and rejects each read it once, cheaper than holding a copy of every kept row.
CREATE OR REPLACE TEMP VIEW session_checked AS
SELECT h.*, s.n AS session_keystrokes, s.session_no,
       CASE WHEN s.n < getvariable('min_keystrokes_per_session') THEN 'session_too_few_keystrokes' END AS session_rule
FROM hold_checked h JOIN session_sizes s USING (source, user_id, session_id)
WHERE h.rule IS NULL;

CREATE OR REPLACE TEMP VIEW keystrokes AS
SELECT source, platform, user_id, session_id,
       (row_number() OVER (PARTITION BY session_no ORDER BY press_ms, source_line) - 1)::INTEGER AS seq,
       press_ms::DOUBLE AS press_ms, release_ms::DOUBLE AS release_ms, key, code, keycode::INTEGER AS keycode,
       source_file, source_line::INTEGER AS source_line
FROM session_checked WHERE session_rule IS NULL
ORDER BY session_no, seq;

CREATE OR REPLACE TEMP VIEW rejects AS
SELECT rule, source, source_file, source_line::INTEGER AS source_line, user_id, session_id, detail FROM (
  SELECT rule, source, source_file, source_line, user_id, session_id, detail FROM file_rejects
  UNION ALL SELECT * FROM webapp_event_rejects
  UNION ALL SELECT * FROM aalto_row_rejects
  UNION ALL
  SELECT rule, source, source_file, source_line, user_id, session_id, printf('hold %s ms (max %s)', hold_ms::VARCHAR, getvariable('max_hold_ms')::VARCHAR)
  FROM hold_checked WHERE rule IS NOT NULL
  UNION ALL
  SELECT session_rule, source, source_file, source_line, user_id, session_id,
         printf('session has %d keystrokes, fewer than %d', session_keystrokes, getvariable('min_keystrokes_per_session'))
  FROM session_checked WHERE session_rule IS NOT NULL
)
ORDER BY source_file, source_line NULLS FIRST, rule;
