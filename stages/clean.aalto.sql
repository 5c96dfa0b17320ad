-- Aalto 136M participant files -> keystroke candidates, for stages/clean.ts.
-- In:  aalto_text(source_file, content): each file's whole text, already UTF-8 (clean.ts decodes
--      Latin-1 files first). Lines are split here, never by a CSV parser: the files use no quoting,
--      and a quote-aware reader swallows everything after a lone `"` (which is a LETTER here).
-- Out: aalto_candidates (one row per data line kept), aalto_row_rejects (one row per line removed),
--      aalto_session_texts (SENTENCE and USER_INPUT per section, from its first kept line)
-- Lines are numbered 1-based with the header as line 1, as editors show them.

CREATE OR REPLACE TEMP TABLE aalto_lines AS
WITH split AS (
  SELECT source_file, string_split(content, chr(10)) AS lines FROM aalto_text
), numbered AS (
  SELECT source_file, unnest(lines) AS line, unnest(range(1, len(lines) + 1)) AS line_no, len(lines) AS n_lines
  FROM split
)
-- CRLF line ends lose their CR; a UTF-8 byte order mark before the header is dropped.
SELECT source_file, line_no::INTEGER AS line_no,
       CASE WHEN line_no = 1 THEN ltrim(rtrim(line, chr(13)), chr(65279)) ELSE rtrim(line, chr(13)) END AS line
FROM numbered
WHERE NOT (line_no = n_lines AND line = '');  -- the empty "line" after the final newline
-- Memory: the whole files' text is not needed once split into lines (at 10M keystrokes every
-- copy held at once counts toward the peak).
DROP TABLE aalto_text;

CREATE OR REPLACE TEMP TABLE aalto_headers AS
SELECT source_file,
       line = 'PARTICIPANT_ID' || chr(9) || 'TEST_SECTION_ID' || chr(9) || 'SENTENCE' || chr(9) || 'USER_INPUT'
              || chr(9) || 'KEYSTROKE_ID' || chr(9) || 'PRESS_TIME' || chr(9) || 'RELEASE_TIME'
              || chr(9) || 'LETTER' || chr(9) || 'KEYCODE' AS header_ok,
       line AS header
FROM aalto_lines WHERE line_no = 1;

-- Numbers go through DOUBLE so `8e+05` and `1.471968e+12` are read as the numbers they are.
CREATE OR REPLACE TEMP TABLE aalto_parsed AS
SELECT l.source_file, l.line_no, l.line, h.header_ok, f,
       len(f) AS n_fields,
       f[1] AS user_id, f[2] AS session_id,
       TRY_CAST(f[5] AS DOUBLE) AS keystroke_id,
       TRY_CAST(f[6] AS DOUBLE) AS press_ms,
       TRY_CAST(f[7] AS DOUBLE) AS release_ms,
       f[8] AS letter,
       TRY_CAST(f[9] AS DOUBLE) AS keycode_d
FROM (SELECT *, string_split(line, chr(9)) AS f FROM aalto_lines WHERE line_no > 1) l
JOIN aalto_headers h USING (source_file);
DROP TABLE aalto_lines;  -- parsed rows keep each line; the split lines are not needed again

CREATE OR REPLACE TEMP TABLE aalto_flagged AS
SELECT *,
       CASE WHEN NOT header_ok THEN 'aalto_bad_header'
            WHEN n_fields <> 9 THEN 'aalto_field_count'
            WHEN user_id = '' OR session_id = '' THEN 'aalto_missing_id'
            WHEN keystroke_id IS NULL OR press_ms IS NULL OR release_ms IS NULL OR keycode_d IS NULL
                 OR keycode_d <> floor(keycode_d) THEN 'aalto_bad_number'
            WHEN keycode_d < 0 OR keycode_d > 255 THEN 'keycode_out_of_range' END AS rule
FROM aalto_parsed;

-- A view: a filter over aalto_flagged, not worth a materialised copy of every kept row.
CREATE OR REPLACE TEMP VIEW aalto_candidates AS
SELECT 'aalto' AS source, 'desktop' AS platform, user_id, session_id, press_ms, release_ms,
       letter AS key, NULL::VARCHAR AS code, keycode_d::INTEGER AS keycode, source_file, line_no AS source_line
FROM aalto_flagged WHERE rule IS NULL;

CREATE OR REPLACE TEMP TABLE aalto_row_rejects AS
SELECT rule, 'aalto' AS source, source_file, line_no AS source_line,
       -- A misaligned row (tab or newline inside LETTER) has no trustworthy ids.
       CASE WHEN n_fields = 9 THEN user_id END AS user_id,
       CASE WHEN n_fields = 9 THEN session_id END AS session_id,
       CASE rule WHEN 'aalto_field_count' THEN printf('%d fields, expected 9', n_fields)
                 WHEN 'aalto_bad_header' THEN (SELECT 'header is ' || header FROM aalto_headers h WHERE h.source_file = a.source_file)
                 ELSE left(line, 200) END AS detail
FROM aalto_flagged a WHERE rule IS NOT NULL;

CREATE OR REPLACE TEMP TABLE aalto_session_texts AS
SELECT 'aalto' AS source, user_id, session_id, arg_min(f[3], line_no) AS prompt, arg_min(f[4], line_no) AS typed_text
FROM aalto_flagged WHERE rule IS NULL GROUP BY ALL;
