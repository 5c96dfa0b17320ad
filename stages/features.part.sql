-- Key pairs -> TypeNet sequences of ONE whole part, for stages/features.ts (an added file is
-- features.added.sql). Reads view `keypairs` (the part's pairs) and view `write_users` (the users
-- kept: table `kept_users` of features.sql); variable sequence_length (M, params.yaml
-- `features.sequence_length`).
-- docs/data-tables.md: keystroke i of a session gives [keyCode_i/255, HL, IL, PL, RL] in
-- seconds (ms/1000), signed, no clipping; N keystrokes give N-1 vectors (one per key pair,
-- position = seq of i); truncated at the end beyond M, zero-padded at the end up to M, padding
-- rows flagged.

-- The sequences, in (source, user_id, session_id, position) order (a session is its source, user and
-- session ids: a web-app upload may reuse an Aalto participant's ids), as a view that features.ts
-- streams into Parquet. The input check found each session one run, sessions in (source, user_id,
-- session_id) order and seq counting from 0, so the sequences are the file's pairs with seq < M,
-- each session's last pair followed by its padding positions: a streaming window and unnest, in
-- file order, with no join and no sort (a sort of sessions x M rows held 2 GB at 10M keystrokes).
CREATE OR REPLACE TEMP VIEW sequences_in_file_order AS
SELECT source, user_id, session_id, position::INTEGER AS position,
       CASE WHEN position = seq THEN keycode1::DOUBLE / 255 ELSE 0 END::DOUBLE AS keycode_norm,
       CASE WHEN position = seq THEN hl_ms / 1000 ELSE 0 END::DOUBLE AS hl_s,
       CASE WHEN position = seq THEN il_ms / 1000 ELSE 0 END::DOUBLE AS il_s,
       CASE WHEN position = seq THEN pl_ms / 1000 ELSE 0 END::DOUBLE AS pl_s,
       CASE WHEN position = seq THEN rl_ms / 1000 ELSE 0 END::DOUBLE AS rl_s,
       position <> seq AS is_padding
FROM (
  SELECT *, unnest(CASE WHEN last_of_session THEN range(seq, getvariable('sequence_length')) ELSE [seq] END) AS position
  FROM (
    -- The next row continues this session exactly when its seq is this one's + 1 (checked: each
    -- session one run, seq counting from 0), so one integer window finds each session's end.
    SELECT *, lead(seq) OVER () IS DISTINCT FROM seq + 1 AS last_of_session
    FROM keypairs
  )
  WHERE seq < getvariable('sequence_length')
    AND user_id IN (SELECT user_id FROM write_users)
);
