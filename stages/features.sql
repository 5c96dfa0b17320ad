-- Key pairs -> the users TypeNet keeps, for stages/features.ts (docs/data-tables.md). Global: reads
-- view `all_sessions` (source, user_id, session_id, pairs, part: one row per session with pairs,
-- over every part, from features' bookkeeping data/features/session-counts/), never the pairs;
-- variable min_sessions_per_user (params.yaml `features.min_sessions_per_user`). The sequences
-- themselves are per part (features.part.sql, features.added.sql). Tables, not TEMP: the per-part
-- connections read kept_users.

-- A user's sessions over ALL parts (a user may span parts; a session lives in one). A session is
-- one row of all_sessions: (source, user_id, session_id), one run in its part by keypairs' check,
-- so the rows are the count. A user_id seen under both sources is one user whose sessions are
-- those of both, even where a web-app upload reuses an Aalto section's session_id.
CREATE OR REPLACE TABLE user_sessions AS
SELECT user_id, count(*)::INTEGER AS sessions FROM all_sessions GROUP BY user_id;

CREATE OR REPLACE TABLE kept_users AS
SELECT user_id FROM user_sessions WHERE sessions >= getvariable('min_sessions_per_user');

-- One sequence per kept session, so `sequences` equals `sessions` for every kept user.
CREATE OR REPLACE TABLE users AS
SELECT user_id, sessions, sessions AS sequences
FROM user_sessions WHERE sessions >= getvariable('min_sessions_per_user') ORDER BY user_id;
