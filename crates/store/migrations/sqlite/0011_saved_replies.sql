-- Saved replies: texts the team inserts into the composer by a shortcut. Keep in
-- step with the other backend's 0011_saved_replies.sql.

CREATE TABLE saved_replies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Lowercased by the server; unique in the team.
    shortcut   TEXT    NOT NULL UNIQUE,
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
