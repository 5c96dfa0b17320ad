-- Aalto 136M participant files -> keystroke candidates, for stages/clean.ts.
-- In:  aalto_files(file_id, read_path, source_file), and aalto_parsed, one row per data line
--      (clean.aalto-batch.sql, run by loadAalto in stages/shared/clean-load.ts a batch of files at a
--      time): its rule (NULL: kept) and detail, and `carries` with prompt and typed_text on lines
--      whose first four fields differ from the line before's.
-- Out: aalto_candidates, aalto_row_rejects, aalto_session_texts (SENTENCE and USER_INPUT per
--      section, from its first kept line).

-- A view: a filter over aalto_parsed, not worth a materialised copy of every kept row.
CREATE OR REPLACE TEMP VIEW aalto_candidates AS
SELECT 'aalto' AS source, 'desktop' AS platform, user_id, session_id, press_ms, release_ms,
       key, NULL::VARCHAR AS code, keycode, f.source_file, line_no AS source_line
FROM aalto_parsed p JOIN aalto_files f USING (file_id) WHERE rule IS NULL;

CREATE OR REPLACE TEMP TABLE aalto_row_rejects AS
SELECT rule, 'aalto' AS source, f.source_file, line_no AS source_line, user_id, session_id, detail
FROM aalto_parsed p JOIN aalto_files f USING (file_id) WHERE rule IS NOT NULL;

-- Each section's first kept line (lowest line, then file, should a section span files), and the
-- texts of the last line at or before it in its file whose first four fields changed: every line
-- from that one up to the first kept line has the same first four fields, SENTENCE and USER_INPUT
-- included, so these are the first kept line's own texts.
CREATE OR REPLACE TEMP TABLE aalto_session_texts AS
WITH firsts AS (
  SELECT user_id, session_id, min({'line_no': line_no, 'file_id': file_id}) AS first
  FROM aalto_parsed WHERE rule IS NULL GROUP BY ALL
)
SELECT 'aalto' AS source, s.user_id, s.session_id, t.prompt, t.typed_text
FROM (SELECT user_id, session_id, first.file_id AS file_id, first.line_no AS line_no FROM firsts) s
ASOF JOIN (SELECT file_id, line_no, prompt, typed_text FROM aalto_parsed WHERE carries) t ON t.file_id = s.file_id AND t.line_no <= s.line_no;
