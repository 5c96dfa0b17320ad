-- Key pairs -> the sequences of an ADDED file of one part, for stages/features.ts: the sessions in
-- that part of the users kept since it was written (docs/data-tables.md, data/features/). Reads
-- view `keypairs_rows` (the part's pairs by row number: file_row_number and the five numbers), view
-- `keypairs_runs` (its sessions: source, user_id, session_id, first_row, pairs, as the input check
-- counted them into data/features/session-counts/<part>.parquet) and view `write_users` (table
-- `kept_now`); variable sequence_length (M). Same rows as features.part.sql gives those sessions.

-- Every such session x positions 0..M-1, its pair at each position or zeros, sorted. A session's
-- pairs are rows first_row .. first_row + pairs - 1 of the part file, seq counting from 0 along
-- them (the input check counted that run), so the pair at position p is row first_row + p, found
-- by row number alone: no string column is read. At 10M keystrokes an added file of 100 users'
-- sessions took ~21 ms this way, ~33 ms joining the pairs on (source, user_id, session_id, seq);
-- the whole-part window would run over every pair of the part first (60-100 ms), in each of the 16
-- parts that 100 uploads keeping 100 users touch.
CREATE OR REPLACE TEMP VIEW sequences_added AS
WITH written AS (
  SELECT source, user_id, session_id, first_row, pairs, position
  FROM keypairs_runs CROSS JOIN range(getvariable('sequence_length')) p(position)
  WHERE user_id IN (SELECT user_id FROM write_users))
SELECT s.source, s.user_id, s.session_id, s.position::INTEGER AS position,
       coalesce(k.keycode1::DOUBLE / 255, 0)::DOUBLE AS keycode_norm,
       coalesce(k.hl_ms / 1000, 0)::DOUBLE AS hl_s,
       coalesce(k.il_ms / 1000, 0)::DOUBLE AS il_s,
       coalesce(k.pl_ms / 1000, 0)::DOUBLE AS pl_s,
       coalesce(k.rl_ms / 1000, 0)::DOUBLE AS rl_s,
       k.file_row_number IS NULL AS is_padding
-- The hash table is built from the right side, the sessions' (row, position) slots (a few
-- thousand), and probed with the part's pairs (features.ts turns off the optimizer that may swap
-- the sides on a misjudged size: built from the pairs, the join took ~70 ms, not ~20).
FROM keypairs_rows k
RIGHT JOIN written s ON k.file_row_number = CASE WHEN s.position < s.pairs THEN s.first_row + s.position END
ORDER BY s.source, s.user_id, s.session_id, s.position;
