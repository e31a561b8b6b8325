-- The host site's user id of an identified visitor (`Sightline.identify`, its
-- signature checked by the server), on each conversation they were identified
-- in: the visitor details list the conversations of the same user from other
-- browsers and devices. The identity itself is in the conversation's
-- `identified` events. Keep in step with the other backend's 0010_identity.sql.

ALTER TABLE conversations ADD COLUMN identity_id TEXT;
CREATE INDEX conversations_identity ON conversations (identity_id) WHERE identity_id IS NOT NULL;
