-- Key pairs -> the users TypeNet keeps, for stages/features.ts (docs/data-tables.md). Global: reads
-- view `all_sessions` (source, user_id, session_id, pairs, part: one row per session with pairs,
-- over every part, from features' bookkeeping data/features/session-counts/), never the pairs;
-- variable min_sessions_per_user (params.yaml `features.min_sessions_per_user`). The sequences
-- themselves are per part (features.part.sql). Tables, not TEMP: the per-part connections read
-- kept_users.

-- A user's distinct session_ids over ALL parts (a user may span parts; a session lives in one).
-- A session is one row of all_sessions (keypairs' check: one run per session in its part), so per
-- source a count of rows is the count of distinct session_ids; a user_id seen under both sources
-- may share a session_id, counted once. (count(DISTINCT session_id) over every row hashed all
-- 241,611 session ids of the 10M web-app set on every run.)
CREATE OR REPLACE TABLE user_sessions AS
WITH per_source AS (
  SELECT user_id, source, count(session_id) AS n FROM all_sessions GROUP BY user_id, source),
in_both AS (SELECT user_id FROM per_source GROUP BY user_id HAVING count(*) > 1),
shared AS (
  SELECT user_id, count(*) AS n FROM (
    SELECT user_id, session_id FROM all_sessions SEMI JOIN in_both USING (user_id)
    WHERE session_id IS NOT NULL GROUP BY user_id, session_id HAVING count(*) > 1)
  GROUP BY user_id)
SELECT user_id, (sum(p.n) - coalesce(any_value(s.n), 0))::INTEGER AS sessions
FROM per_source p LEFT JOIN shared s USING (user_id) GROUP BY user_id;

CREATE OR REPLACE TABLE kept_users AS
SELECT user_id FROM user_sessions WHERE sessions >= getvariable('min_sessions_per_user');

-- One sequence per kept session, so `sequences` equals `sessions` for every kept user.
CREATE OR REPLACE TABLE users AS
SELECT user_id, sessions, sessions AS sequences
FROM user_sessions WHERE sessions >= getvariable('min_sessions_per_user') ORDER BY user_id;
