-- Kept sessions, for stages/clean.ts, after it wrote keystrokes.parquet.
-- In:  keystrokes (the written file), webapp_session_texts, aalto_session_texts.
-- Out: sessions (docs/data-tables.md).

-- One row per kept session, with the text shown and typed (words per minute needs the typed length).
-- A view, so the COPY that writes it ends in this ORDER BY: clean runs DuckDB with
-- preserve_insertion_order off, and a COPY from a table would then write its row groups in any order.
CREATE OR REPLACE TEMP VIEW sessions AS
SELECT k.source, k.platform, k.user_id, k.session_id, t.prompt, t.typed_text, count(*)::INTEGER AS keystrokes
FROM keystrokes k
LEFT JOIN (SELECT * FROM webapp_session_texts UNION ALL SELECT * FROM aalto_session_texts) t USING (source, user_id, session_id)
GROUP BY ALL
ORDER BY k.source, k.user_id, k.session_id;
