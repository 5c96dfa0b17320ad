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
-- data; a zero hold is a logging artefact; a very long one a stuck or re-paired key. A time that is
-- NaN or infinite (an Aalto `NaN` or `inf`, a web-app time past the range of DOUBLE) is no time at
-- all: checked first, as DuckDB orders NaN above every number (a NaN hold would be hold_over_max).
CREATE OR REPLACE TEMP VIEW hold_checked AS
SELECT *, release_ms - press_ms AS hold_ms,
       CASE WHEN NOT (isfinite(press_ms) AND isfinite(release_ms)) THEN 'non_finite_time'
            WHEN release_ms - press_ms < 0 THEN 'hold_negative'
            WHEN release_ms - press_ms = 0 THEN 'hold_zero'
            WHEN release_ms - press_ms > getvariable('max_hold_ms') THEN 'hold_over_max' END AS rule
FROM candidates;

-- session_no numbers the sessions in output order: keystrokes sorts by one integer instead of
-- three strings (the same order, as each session has exactly one number). first_row is the number
-- of kept keystrokes in the kept sessions before this one: the row of keystrokes.parquet where the
-- session starts, so a keystroke's seq is its row in the sorted output minus first_row.
CREATE OR REPLACE TEMP TABLE session_sizes AS
SELECT *, coalesce(sum(CASE WHEN n >= getvariable('min_keystrokes_per_session') THEN n ELSE 0 END)
                   OVER (ORDER BY session_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)::BIGINT AS first_row
FROM (
  SELECT *, row_number() OVER (ORDER BY source, user_id, session_id)::INTEGER AS session_no FROM (
    SELECT source, user_id, session_id, count(*)::INTEGER AS n
    FROM hold_checked WHERE rule IS NULL GROUP BY ALL
  )
);

-- A view: keystrokes and rejects each read it once, cheaper than holding a copy of every kept row.
CREATE OR REPLACE TEMP VIEW session_checked AS
SELECT h.*, s.n AS session_keystrokes, s.session_no, s.first_row,
       CASE WHEN s.n < getvariable('min_keystrokes_per_session') THEN 'session_too_few_keystrokes' END AS session_rule
FROM hold_checked h JOIN session_sizes s USING (source, user_id, session_id)
WHERE h.rule IS NULL;

-- One sort, by session and press time, and seq counted off the sorted rows by a streaming window.
-- (seq as row_number() OVER (PARTITION BY session_no ...) sorted every keystroke a second time:
-- 15.4 s -> 12.5 s for this COPY at 10M.) The sorted subquery names only the columns written, so
-- the sort does not carry the rule columns along. Should DuckDB ever hand the window the rows out of
-- order, seq would not count 0, 1, 2 by press time and keypairs' input check
-- seq_counts_by_press_time would stop the build (stages/shared/tables.ts).
CREATE OR REPLACE TEMP VIEW keystrokes AS
SELECT source, platform, user_id, session_id,
       (row_number() OVER () - 1 - first_row)::INTEGER AS seq,
       press_ms, release_ms, key, code, keycode, source_file, source_line
FROM (
  SELECT source, platform, user_id, session_id, first_row, press_ms::DOUBLE AS press_ms, release_ms::DOUBLE AS release_ms,
         key, code, keycode::INTEGER AS keycode, source_file, source_line::INTEGER AS source_line
  FROM session_checked WHERE session_rule IS NULL
  -- source_file before source_line: a session may span Aalto files, whose lines can share a
  -- number and a press time; without it their order was the order rows were loaded in, which
  -- the parse's parallel batches do not fix.
  ORDER BY session_no, press_ms, source_file, source_line
);

CREATE OR REPLACE TEMP VIEW rejects AS
SELECT rule, source, source_file, source_line::INTEGER AS source_line, user_id, session_id, detail FROM (
  SELECT rule, source, source_file, source_line, user_id, session_id, detail FROM file_rejects
  UNION ALL SELECT * FROM webapp_event_rejects
  UNION ALL SELECT * FROM aalto_row_rejects
  UNION ALL
  SELECT rule, source, source_file, source_line, user_id, session_id,
         CASE WHEN rule = 'non_finite_time' THEN printf('press %s ms, release %s ms', press_ms::VARCHAR, release_ms::VARCHAR)
              ELSE printf('hold %s ms (max %s)', hold_ms::VARCHAR, getvariable('max_hold_ms')::VARCHAR) END
  FROM hold_checked WHERE rule IS NOT NULL
  UNION ALL
  SELECT session_rule, source, source_file, source_line, user_id, session_id,
         printf('session has %d keystrokes, fewer than %d', session_keystrokes, getvariable('min_keystrokes_per_session'))
  FROM session_checked WHERE session_rule IS NOT NULL
)
ORDER BY source_file, source_line NULLS FIRST, rule;
