-- Keystrokes -> key pairs (digraphs), for stages/keypairs.ts. Reads view `keystrokes`.
-- Within each session, keystroke i (by seq, i.e. press time) and i+1:
--   hl = R_i - P_i;  il = P_{i+1} - R_i (negative under rollover: kept, it is normal typing);
--   pl = P_{i+1} - P_i;  rl = R_{i+1} - R_i.   PL = HL + IL by construction.
-- Latencies never cross sessions: lead() is partitioned by session.
-- A view, not a table: keypairs.ts streams it into Parquet with COPY, so the pairs are never held
-- in memory a second time as a materialised table.
CREATE OR REPLACE TEMP VIEW keypairs AS
SELECT source, platform, user_id, session_id, seq, keycode1, keycode2,
       release1 - press1 AS hl_ms,
       press2 - release1 AS il_ms,
       press2 - press1 AS pl_ms,
       release2 - release1 AS rl_ms
FROM (
  SELECT source, platform, user_id, session_id, seq,
         keycode AS keycode1, press_ms AS press1, release_ms AS release1,
         lead(keycode) OVER s AS keycode2, lead(press_ms) OVER s AS press2, lead(release_ms) OVER s AS release2
  FROM keystrokes
  WINDOW s AS (PARTITION BY source, user_id, session_id ORDER BY seq)
)
WHERE keycode2 IS NOT NULL
ORDER BY source, user_id, session_id, seq;
