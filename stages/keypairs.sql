-- Keystrokes -> key pairs (digraphs), for stages/keypairs.ts. Reads view `keystrokes`.
-- Within each session, keystroke i (by seq, i.e. press time) and i+1:
--   hl = R_i - P_i;  il = P_{i+1} - R_i (negative under rollover: kept, it is normal typing);
--   pl = P_{i+1} - P_i;  rl = R_{i+1} - R_i.   PL = HL + IL by construction.
-- Latencies never cross sessions: a pair is kept only when both rows are of one session.
-- Each keystrokes part file holds each session as one run in (source, user_id, session_id, seq) order
-- (clean writes it so; keypairs.ts checks it first: rules seq_counts_by_press_time and
-- sessions_in_order), so keystroke i+1 is the file's next row. `lead(...) OVER ()` reads it
-- with a streaming window in file order: no partitioned sort of the table, and no ORDER BY,
-- since the pairs come out in the order the file has, which is the order they are wanted in.
-- A view, not a table: keypairs.ts streams it into Parquet with COPY.
CREATE OR REPLACE TEMP VIEW keypairs AS
SELECT source, platform, user_id, session_id, seq, keycode1, keycode2,
       release1 - press1 AS hl_ms,
       press2 - release1 AS il_ms,
       press2 - press1 AS pl_ms,
       release2 - release1 AS rl_ms
FROM (
  SELECT source, platform, user_id, session_id, seq,
         keycode AS keycode1, press_ms AS press1, release_ms AS release1,
         lead(seq) OVER () AS next_seq,
         lead(keycode) OVER () AS keycode2, lead(press_ms) OVER () AS press2, lead(release_ms) OVER () AS release2
  FROM keystrokes
)
-- The next row is of the same session exactly when its seq is this one's + 1: a session's rows are
-- one run with seq 0, 1, 2, ... (checked), so the next session's first row has seq 0, never seq + 1.
-- One integer window, where a window of (source, user_id, session_id, seq) built and compared a
-- struct of three strings per row (both give the same rows; this one on a single thread's budget).
WHERE next_seq = seq + 1;
