-- Appending an event writes only the event. Keep in step with the other
-- backend's 0006_lighter_event_writes.sql.
--
-- A conversation's last_seq and preview are derived from its events when read
-- (the events' primary key finds the newest).
ALTER TABLE conversations DROP COLUMN last_seq;
ALTER TABLE conversations DROP COLUMN preview;
-- A resent message is recognised by the hub, which keeps each open
-- conversation's newest client ids (loaded again at start-up) and acknowledges a
-- retry instead of storing it. This index only turned a hub bug into a failed
-- group commit for everyone, at the price of a random index write per event.
DROP INDEX events_client_id;
