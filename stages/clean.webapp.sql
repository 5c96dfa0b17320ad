-- Web-app events -> keystroke candidates, for stages/clean.ts.
-- In:  webapp_sessions(file_id, source_file, user_id, session_id, platform, prompt, text, time_origin, events[])
-- Out: webapp_candidates (one row per paired keystroke), webapp_event_rejects (one row per event removed),
--      webapp_session_texts (prompt and typed text per session), webapp_event_count (events read)
--
-- Pairing: a keydown pairs with the NEXT event of the same `code` (physical key) if that event is
-- a keyup. Under rollover keyups of other keys interleave freely, so pairing by adjacency would
-- be wrong; per key, though, a real key goes down, up, down, up. A keydown followed (for its code)
-- by another keydown or by nothing lost its keyup (blur, Cmd held): unmatched_keydown. A keyup not
-- preceded (for its code) by a keydown is unmatched_keyup (its keydown came before the page).
-- Auto-repeat keydowns and IME events (keyCode 229 or isComposing) are removed before pairing.
--
-- Memory (10M keystrokes are ~21M events): per-file values (ids, paths, texts) stay in the small
-- webapp_files table and rows carry its file_id; the events list is unnested once into the one
-- table the pairing needs, then dropped; everything after that is a view, read where it is used.

CREATE OR REPLACE TEMP TABLE webapp_files AS
SELECT file_id, source_file, user_id, session_id, platform, prompt, text, time_origin FROM webapp_sessions;

CREATE OR REPLACE TEMP TABLE webapp_event_count AS
SELECT coalesce(sum(len(events)), 0)::INTEGER AS n FROM webapp_sessions;

-- One row per event, with only what pairing and the reject details read.
CREATE OR REPLACE TEMP VIEW webapp_events AS
SELECT file_id, ev.t AS t, ev.type AS type, ev.key AS key, ev.code AS code, ev.keyCode AS keycode,
       ev.repeat AS is_repeat, ev.composing AS composing, event_index::INTEGER AS event_index
FROM (SELECT file_id, unnest(events) AS ev, unnest(range(len(events))) AS event_index FROM webapp_sessions);

CREATE OR REPLACE TEMP VIEW webapp_flagged AS
SELECT *,
       CASE WHEN type = 'down' AND is_repeat THEN 'repeat_keydown'
            WHEN composing OR keycode = 229 THEN 'ime_composing' END AS rule
FROM webapp_events;

CREATE OR REPLACE TEMP TABLE webapp_flag_rejects AS
SELECT file_id, event_index, rule, type, code, keycode, t FROM webapp_flagged WHERE rule IS NOT NULL;

-- Only the rows something reads: keydowns (paired or not) and keyups without their keydown. A
-- paired keyup is already in its keydown's next_t.
CREATE OR REPLACE TEMP TABLE webapp_paired AS
SELECT * FROM (
  SELECT file_id, event_index, t, type, key, code, keycode,
         lead(type) OVER per_key AS next_type,
         lead(t) OVER per_key AS next_t,
         lag(type) OVER per_key AS prev_type
  FROM webapp_flagged
  WHERE rule IS NULL
  WINDOW per_key AS (PARTITION BY file_id, code ORDER BY t, event_index)
)
WHERE type = 'down' OR prev_type IS DISTINCT FROM 'down';

DROP TABLE webapp_sessions;  -- every event is in webapp_paired or webapp_flag_rejects now

CREATE OR REPLACE TEMP VIEW webapp_candidates AS
SELECT 'webapp' AS source, f.platform, f.user_id, f.session_id,
       f.time_origin + p.t AS press_ms, f.time_origin + p.next_t AS release_ms,
       p.key, p.code, p.keycode, f.source_file, p.event_index AS source_line
FROM webapp_paired p JOIN webapp_files f USING (file_id)
WHERE p.type = 'down' AND p.next_type = 'up';

CREATE OR REPLACE TEMP VIEW webapp_event_rejects AS
SELECT r.rule, 'webapp' AS source, f.source_file, r.event_index AS source_line, f.user_id, f.session_id,
       printf('%s %s code=%s keyCode=%d t=%s', r.rule, r.type, r.code, r.keycode, r.t::VARCHAR) AS detail
FROM webapp_flag_rejects r JOIN webapp_files f USING (file_id)
UNION ALL
SELECT CASE p.type WHEN 'down' THEN 'unmatched_keydown' ELSE 'unmatched_keyup' END,
       'webapp', f.source_file, p.event_index, f.user_id, f.session_id,
       printf('%s code=%s t=%s without its %s', p.type, p.code, p.t::VARCHAR, CASE p.type WHEN 'down' THEN 'keyup' ELSE 'keydown' END)
FROM webapp_paired p JOIN webapp_files f USING (file_id)
WHERE (p.type = 'down' AND p.next_type IS DISTINCT FROM 'up')
   OR (p.type = 'up' AND p.prev_type IS DISTINCT FROM 'down');

CREATE OR REPLACE TEMP VIEW webapp_session_texts AS
SELECT 'webapp' AS source, user_id, session_id, prompt, text AS typed_text FROM webapp_files;
