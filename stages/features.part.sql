-- Key pairs -> TypeNet sequences of ONE part, for stages/features.ts. Reads view `keypairs` (the
-- part's pairs), view `keypairs_runs` (its sessions in file order: source, user_id, session_id,
-- first_row, kept by the input check as data/features/session-counts/<part>.parquet) and view
-- `write_users`: the users whose sessions this file holds (features.ts: table `kept_users` of
-- features.sql for a whole part, or only the users kept since the part was written for an added
-- file); variable sequence_length (M, params.yaml `features.sequence_length`).
-- docs/data-tables.md: keystroke i of a session gives [keyCode_i/255, HL, IL, PL, RL] in
-- seconds (ms/1000), signed, no clipping; N keystrokes give N-1 vectors (one per key pair,
-- position = seq of i); truncated at the end beyond M, zero-padded at the end up to M, padding
-- rows flagged.

-- The sequences, in (source, user_id, session_id, position) order (a session is its source, user and
-- session ids: a web-app upload may reuse an Aalto participant's ids), two ways with the same rows.
-- Both are views that features.ts streams into Parquet.

-- 1. A whole part: the input check found each session one run, sessions in (source, user_id,
--    session_id) order and seq counting from 0, so the sequences are the file's pairs with seq < M,
--    each session's last pair followed by its padding positions: a streaming window and unnest, in
--    file order, with no join and no sort (a sort of sessions x M rows held 2 GB at 10M keystrokes).
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

-- 2. An added file (a few users' sessions): every such session x positions 0..M-1, its pair at each
--    position or zeros, sorted; the streaming window would run over every pair of the part first
--    (60-100 ms at 10M keystrokes, 16 parts at once when 100 new uploads keep 100 users). The
--    pairs joined are only those of the users written: the join's hash table is built from them,
--    not from every pair of the part (an added file of a few users: ~10 ms, not ~100).
CREATE OR REPLACE TEMP VIEW sequences_sorted AS
WITH kept_sessions AS (
  SELECT DISTINCT source, user_id, session_id FROM keypairs_runs WHERE user_id IN (SELECT user_id FROM write_users)),
written_pairs AS (
  SELECT * FROM keypairs WHERE user_id IN (SELECT user_id FROM write_users))
SELECT s.source, s.user_id, s.session_id, p.position::INTEGER AS position,
       coalesce(k.keycode1::DOUBLE / 255, 0)::DOUBLE AS keycode_norm,
       coalesce(k.hl_ms / 1000, 0)::DOUBLE AS hl_s,
       coalesce(k.il_ms / 1000, 0)::DOUBLE AS il_s,
       coalesce(k.pl_ms / 1000, 0)::DOUBLE AS pl_s,
       coalesce(k.rl_ms / 1000, 0)::DOUBLE AS rl_s,
       k.seq IS NULL AS is_padding
FROM kept_sessions s
CROSS JOIN range(getvariable('sequence_length')) p(position)
LEFT JOIN written_pairs k ON k.source = s.source AND k.user_id = s.user_id AND k.session_id = s.session_id AND k.seq = p.position
ORDER BY s.source, s.user_id, s.session_id, p.position;
