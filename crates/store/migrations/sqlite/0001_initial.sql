-- Sightline schema, SQLite flavour. Keep in step with ../postgres/0001_initial.sql:
-- same tables, columns, constraints and index names; only types differ.
-- Times are milliseconds since the Unix epoch; booleans are 0/1.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Stored lowercased by the store, so that UNIQUE makes names case-insensitive.
    name          TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT    NOT NULL PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE visitors (
    id         TEXT   NOT NULL PRIMARY KEY,
    token_hash TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE conversations (
    -- Insertion order: breaks ties between conversations created in the same millisecond.
    row_id             INTEGER PRIMARY KEY,
    id                 TEXT    NOT NULL UNIQUE,
    visitor_id         TEXT    NOT NULL REFERENCES visitors (id),
    status             TEXT    NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    agent_id           INTEGER REFERENCES users (id),
    agent_display_name TEXT,
    created_at         BIGINT  NOT NULL,
    last_seq           BIGINT  NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_activity_at   BIGINT  NOT NULL,
    closed_at          BIGINT,
    preview            TEXT,
    page_url           TEXT,
    page_title         TEXT,
    CHECK ((agent_id IS NULL) = (agent_display_name IS NULL)),
    CHECK ((page_url IS NULL) = (page_title IS NULL))
);
CREATE INDEX conversations_visitor ON conversations (visitor_id, created_at);
CREATE INDEX conversations_activity ON conversations (last_activity_at, id);
CREATE INDEX conversations_status_activity ON conversations (status, last_activity_at, id);
CREATE INDEX conversations_agent_activity ON conversations (agent_id, last_activity_at, id);

CREATE TABLE events (
    conversation_id TEXT   NOT NULL REFERENCES conversations (id),
    seq             BIGINT NOT NULL CHECK (seq > 0),
    at              BIGINT NOT NULL,
    -- The EventKind tag: started, message, agent_joined, closed.
    kind            TEXT   NOT NULL,
    -- Who caused the event, when the event says: messages (from) and closes (by).
    from_role       TEXT   CHECK (from_role IN ('visitor', 'agent')),
    client_id       TEXT,
    -- Lowercased plain text of messages, for search; NULL for other events.
    search_text     TEXT,
    -- The whole EventKind as JSON: the source of truth when reading events back.
    data            TEXT   NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE UNIQUE INDEX events_client_id ON events (conversation_id, from_role, client_id)
    WHERE client_id IS NOT NULL;
