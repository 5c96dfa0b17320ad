-- Web-app events -> keystroke candidates, for stages/clean.ts.
-- In:  webapp_files(file_id, source_file, user_id, session_id, platform, prompt, text, time_origin),
--      webapp_uploads(file_id, events[]) (a view over the staged documents: read once, here)
-- Out: webapp_candidates (one row per paired keystroke), webapp_event_rejects (one row per event removed),
--      webapp_session_texts (prompt and typed text per session)
--
-- Pairing: a keydown pairs with the NEXT event of the same `code` (physical key) if that event is
-- a keyup. Under rollover keyups of other keys interleave freely, so pairing by adjacency would
-- be wrong; per key, though, a real key goes down, up, down, up. A keydown followed (for its code)
-- by another keydown or by nothing lost its keyup (blur, Cmd held): unmatched_keydown. A keyup not
-- preceded (for its code) by a keydown is unmatched_keyup (its keydown came before the page).
-- Auto-repeat keydowns and IME events (keyCode 229 or isComposing) are removed before pairing.
--
-- Memory (10M keystrokes are ~21M events): rows carry a file_id, never the per-file strings
-- (those stay in webapp_files), and the only table the size of the events is webapp_paired.

CREATE OR REPLACE TEMP VIEW webapp_events AS
SELECT file_id, ev.t AS t, ev.type AS type, ev.key AS key, ev.code AS code, ev.keyCode AS keycode,
       ev.repeat AS is_repeat, ev.composing AS composing, event_index::INTEGER AS event_index
FROM (SELECT file_id, unnest(events) AS ev, unnest(range(len(events))) AS event_index FROM webapp_uploads);

CREATE OR REPLACE TEMP VIEW webapp_flagged AS
SELECT *,
       CASE WHEN type = 'down' AND is_repeat THEN 'repeat_keydown'
            WHEN composing OR keycode = 229 THEN 'ime_composing' END AS rule
FROM webapp_events;

-- One pass over the documents. Flagged events sit in partitions of their own (rule IS NULL is part
-- of the key), so pairing sees exactly the events that are not flagged. Kept: the rows something
-- reads: flagged events, keydowns (paired or not) and keyups without their keydown; a paired keyup
-- is already in its keydown's next_t.
CREATE OR REPLACE TEMP TABLE webapp_paired AS
SELECT * FROM (
  SELECT file_id, event_index, t, type, key, code, keycode, rule,
         lead(type) OVER per_key AS next_type,
         lead(t) OVER per_key AS next_t,
         lag(type) OVER per_key AS prev_type
  FROM webapp_flagged
  WINDOW per_key AS (PARTITION BY file_id, code, rule IS NULL ORDER BY t, event_index)
)
WHERE rule IS NOT NULL OR type = 'down' OR prev_type IS DISTINCT FROM 'down';

CREATE OR REPLACE TEMP VIEW webapp_candidates AS
SELECT 'webapp' AS source, f.platform, f.user_id, f.session_id,
       f.time_origin + p.t AS press_ms, f.time_origin + p.next_t AS release_ms,
       p.key, p.code, p.keycode, f.source_file, p.event_index AS source_line
FROM webapp_paired p JOIN webapp_files f USING (file_id)
WHERE p.rule IS NULL AND p.type = 'down' AND p.next_type = 'up';

CREATE OR REPLACE TEMP VIEW webapp_event_rejects AS
SELECT p.rule, 'webapp' AS source, f.source_file, p.event_index AS source_line, f.user_id, f.session_id,
       printf('%s %s code=%s keyCode=%d t=%s', p.rule, p.type, p.code, p.keycode, p.t::VARCHAR) AS detail
FROM webapp_paired p JOIN webapp_files f USING (file_id)
WHERE p.rule IS NOT NULL
UNION ALL
SELECT CASE p.type WHEN 'down' THEN 'unmatched_keydown' ELSE 'unmatched_keyup' END,
       'webapp', f.source_file, p.event_index, f.user_id, f.session_id,
       printf('%s code=%s t=%s without its %s', p.type, p.code, p.t::VARCHAR, CASE p.type WHEN 'down' THEN 'keyup' ELSE 'keydown' END)
FROM webapp_paired p JOIN webapp_files f USING (file_id)
WHERE p.rule IS NULL
  AND ((p.type = 'down' AND p.next_type IS DISTINCT FROM 'up') OR (p.type = 'up' AND p.prev_type IS DISTINCT FROM 'down'));

CREATE OR REPLACE TEMP VIEW webapp_session_texts AS
SELECT 'webapp' AS source, user_id, session_id, prompt, text AS typed_text FROM webapp_files;
