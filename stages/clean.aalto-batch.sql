-- One batch of Aalto files -> one row per data line appended to aalto_parsed, for loadAalto
-- (stages/shared/clean-load.ts), which creates the table and runs this once per batch of files, with
-- aalto_text reading just that batch. Batches bound the memory of the parse (each
-- file's text, its list of lines, each line's list of fields) to a few hundred files at a time,
-- and what is kept per line is only what later steps read. clean.aalto.sql reads the result.
-- Lines are numbered 1-based with the header as line 1, as editors show them. Lines are split
-- here, never by a CSV parser: the files use no quoting, a quote-aware reader swallows everything
-- after a lone `"` (which is a LETTER here), and DuckDB's CSV reader cannot tell which line of its
-- file a row came from.

-- One pass: split, number, type and judge every data line; no copy of a line's text or fields
-- outlives it, and SENTENCE / USER_INPUT only where they change (`carries`).
INSERT INTO aalto_parsed
WITH files AS (
  SELECT file_id, lines, len(lines) AS n_lines,
         -- A UTF-8 byte order mark before the header is dropped; CRLF line ends lose their CR.
         ltrim(rtrim(lines[1], chr(13)), chr(65279)) AS header
  FROM (SELECT file_id, string_split(content, chr(10)) AS lines FROM aalto_text)
), numbered AS (
  -- Each data line beside the line before it (for `carries`); both lists have n_lines - 1 items.
  SELECT file_id, n_lines, header,
         header = 'PARTICIPANT_ID' || chr(9) || 'TEST_SECTION_ID' || chr(9) || 'SENTENCE' || chr(9) || 'USER_INPUT'
                  || chr(9) || 'KEYSTROKE_ID' || chr(9) || 'PRESS_TIME' || chr(9) || 'RELEASE_TIME'
                  || chr(9) || 'LETTER' || chr(9) || 'KEYCODE' AS header_ok,
         unnest(lines[2:]) AS raw_line, unnest(lines[:n_lines - 1]) AS prev_line, unnest(range(2, n_lines + 1)) AS line_no
  FROM files
), fields AS (
  SELECT *, string_split(line, chr(9)) AS f
  -- rtrim with a character set walks the whole line (2 s per million lines): only lines that
  -- end in CR pay for it.
  FROM (SELECT *, CASE WHEN ends_with(raw_line, chr(13)) THEN rtrim(raw_line, chr(13)) ELSE raw_line END AS line FROM numbered)
  WHERE NOT (line_no = n_lines AND line = '')  -- the empty "line" after the final newline
), typed AS (
  -- Numbers go through DOUBLE so `8e+05` and `1.471968e+12` are read as the numbers they are.
  SELECT file_id, line_no, line, header, header_ok, f, len(f) AS n_fields, prev_line,
         TRY_CAST(f[5] AS DOUBLE) AS keystroke_id, TRY_CAST(f[6] AS DOUBLE) AS press_ms,
         TRY_CAST(f[7] AS DOUBLE) AS release_ms, TRY_CAST(f[9] AS DOUBLE) AS keycode_d
  FROM fields
), judged AS (
  SELECT *,
         CASE WHEN NOT header_ok THEN 'aalto_bad_header'
              WHEN n_fields <> 9 THEN 'aalto_field_count'
              WHEN f[1] = '' OR f[2] = '' THEN 'aalto_missing_id'
              WHEN keystroke_id IS NULL OR press_ms IS NULL OR release_ms IS NULL OR keycode_d IS NULL
                   OR keycode_d <> floor(keycode_d) THEN 'aalto_bad_number'
              WHEN keycode_d < 0 OR keycode_d > 255 THEN 'keycode_out_of_range' END AS rule
  FROM typed
)
SELECT file_id, line_no::INTEGER AS line_no, rule,
       -- A misaligned row (tab or newline inside LETTER) has no trustworthy ids.
       CASE WHEN n_fields = 9 THEN f[1] END AS user_id,
       CASE WHEN n_fields = 9 THEN f[2] END AS session_id,
       press_ms, release_ms,
       CASE WHEN rule IS NULL THEN f[8] END AS key,
       CASE WHEN rule IS NULL THEN keycode_d::INTEGER END AS keycode,
       CASE WHEN rule = 'aalto_field_count' THEN printf('%d fields, expected 9', n_fields)
            WHEN rule = 'aalto_bad_header' THEN 'header is ' || header
            WHEN rule IS NOT NULL THEN left(line, 200) END AS detail,
       -- `carries`: the first four fields differ from the line before's (or it follows the header).
       -- Lines from one that carries up to the next share SENTENCE and USER_INPUT exactly, so a
       -- section's texts are those of the last carrying line at or before its first kept line.
       line_no = 2 OR n_fields < 5 OR NOT starts_with(prev_line, concat_ws(chr(9), f[1], f[2], f[3], f[4], '')) AS carries,
       CASE WHEN carries THEN f[3] END AS prompt,
       CASE WHEN carries THEN f[4] END AS typed_text
FROM judged;
