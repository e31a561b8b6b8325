-- The colour of an agent's initials (a palette name: blue, teal, …; NULL: the
-- default). Keep in step with the other backend's 0007_avatar_colour.sql.

ALTER TABLE users ADD COLUMN avatar_colour TEXT;
