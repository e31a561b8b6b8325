-- A conversation's last_seq and preview are derived from its events when read
-- (the events' primary key finds the newest), so that appending an event writes
-- only the event. Keep in step with the other backend's
-- 0006_derived_conversation_columns.sql.

ALTER TABLE conversations DROP COLUMN last_seq;
ALTER TABLE conversations DROP COLUMN preview;
