-- Key pairs -> TypeNet sequences, for stages/features.ts. Reads view `keypairs`; variables
-- sequence_length (M) and min_sessions_per_user (params.yaml `features.*`).
-- DESIGN.md: keystroke i of a session gives [keyCode_i/255, HL, IL, PL, RL] in seconds (ms/1000),
-- signed, no clipping; N keystrokes give N-1 vectors (one per key pair, position = seq of i);
-- truncated at the end beyond M, zero-padded at the end up to M, padding rows flagged.

CREATE OR REPLACE TEMP TABLE user_sessions AS
SELECT user_id, count(DISTINCT session_id)::INTEGER AS sessions FROM keypairs GROUP BY user_id;

CREATE OR REPLACE TEMP TABLE kept_sessions AS
SELECT DISTINCT k.user_id, k.session_id
FROM keypairs k JOIN user_sessions u USING (user_id)
WHERE u.sessions >= getvariable('min_sessions_per_user');

-- A view, not a table: features.ts streams it into Parquet with COPY instead of holding the
-- padded tensor (sessions x M rows) in memory as well.
CREATE OR REPLACE TEMP VIEW sequences AS
SELECT s.user_id, s.session_id, p.position::INTEGER AS position,
       coalesce(k.keycode1::DOUBLE / 255, 0)::DOUBLE AS keycode_norm,
       coalesce(k.hl_ms / 1000, 0)::DOUBLE AS hl_s,
       coalesce(k.il_ms / 1000, 0)::DOUBLE AS il_s,
       coalesce(k.pl_ms / 1000, 0)::DOUBLE AS pl_s,
       coalesce(k.rl_ms / 1000, 0)::DOUBLE AS rl_s,
       k.seq IS NULL AS is_padding
FROM kept_sessions s
CROSS JOIN range(getvariable('sequence_length')) p(position)
LEFT JOIN keypairs k ON k.user_id = s.user_id AND k.session_id = s.session_id AND k.seq = p.position
ORDER BY s.user_id, s.session_id, p.position;

-- One sequence per kept session, so `sequences` equals `sessions` for every kept user.
CREATE OR REPLACE TEMP TABLE users AS
SELECT user_id, count(*)::INTEGER AS sessions, count(*)::INTEGER AS sequences
FROM kept_sessions GROUP BY user_id ORDER BY user_id;
