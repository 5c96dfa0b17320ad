-- Web-app events -> keystroke candidates, for stages/clean.ts.
-- In:  webapp_sessions(source_file, user_id, session_id, platform, prompt, text, time_origin, events[])
-- Out: webapp_candidates (one row per paired keystroke), webapp_event_rejects (one row per event removed),
--      webapp_session_texts (prompt and typed text per session)
--
-- Pairing: a keydown pairs with the NEXT event of the same `code` (physical key) if that event is
-- a keyup. Under rollover keyups of other keys interleave freely, so pairing by adjacency would
-- be wrong; per key, though, a real key goes down, up, down, up. A keydown followed (for its code)
-- by another keydown or by nothing lost its keyup (blur, Cmd held): unmatched_keydown. A keyup not
-- preceded (for its code) by a keydown is unmatched_keyup (its keydown came before the page).
-- Auto-repeat keydowns and IME events (keyCode 229 or isComposing) are removed before pairing.

CREATE OR REPLACE TEMP VIEW webapp_events AS
SELECT file_id, source_file, user_id, session_id, platform, time_origin,
       ev.t AS t, ev.type AS type, ev.key AS key, ev.code AS code, ev.keyCode AS keycode,
       ev.repeat AS is_repeat, ev.composing AS composing, event_index::INTEGER AS event_index
FROM (
  SELECT file_id, source_file, user_id, session_id, platform, time_origin,
         unnest(events) AS ev, unnest(range(len(events))) AS event_index
  FROM webapp_sessions
);

CREATE OR REPLACE TEMP VIEW webapp_flagged AS
SELECT *,
       CASE WHEN type = 'down' AND is_repeat THEN 'repeat_keydown'
            WHEN composing OR keycode = 229 THEN 'ime_composing' END AS rule
FROM webapp_events;

CREATE OR REPLACE TEMP TABLE webapp_sequenced AS
SELECT *,
       lead(type) OVER per_key AS next_type,
       lead(t) OVER per_key AS next_t,
       lag(type) OVER per_key AS prev_type
FROM webapp_flagged
WHERE rule IS NULL
WINDOW per_key AS (PARTITION BY file_id, code ORDER BY t, event_index);

CREATE OR REPLACE TEMP TABLE webapp_candidates AS
SELECT 'webapp' AS source, platform, user_id, session_id,
       time_origin + t AS press_ms, time_origin + next_t AS release_ms,
       key, code, keycode, source_file, event_index AS source_line
FROM webapp_sequenced
WHERE type = 'down' AND next_type = 'up';

CREATE OR REPLACE TEMP TABLE webapp_event_rejects AS
SELECT rule, 'webapp' AS source, source_file, event_index AS source_line, user_id, session_id,
       printf('%s %s code=%s keyCode=%d t=%s', rule, type, code, keycode, t::VARCHAR) AS detail
FROM webapp_flagged WHERE rule IS NOT NULL
UNION ALL
SELECT CASE type WHEN 'down' THEN 'unmatched_keydown' ELSE 'unmatched_keyup' END,
       'webapp', source_file, event_index, user_id, session_id,
       printf('%s code=%s t=%s without its %s', type, code, t::VARCHAR, CASE type WHEN 'down' THEN 'keyup' ELSE 'keydown' END)
FROM webapp_sequenced
WHERE (type = 'down' AND next_type IS DISTINCT FROM 'up')
   OR (type = 'up' AND prev_type IS DISTINCT FROM 'down');

CREATE OR REPLACE TEMP TABLE webapp_session_texts AS
SELECT 'webapp' AS source, user_id, session_id, prompt, text AS typed_text FROM webapp_sessions;
