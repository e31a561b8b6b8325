-- Images posted into conversations (snapshots, pictures visitors send). The bytes
-- live in the blob store under the data directory, named by their SHA-256; this
-- table holds what is known about them and who may see them (the conversation's
-- visitor and the agents). Keep in step with the other backend's 0002_images.sql.

CREATE TABLE images (
    id              TEXT    NOT NULL PRIMARY KEY,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id),
    -- Hex SHA-256 of the original and of the thumbnail: their blob names.
    sha256          TEXT    NOT NULL,
    thumb_sha256    TEXT    NOT NULL,
    mime            TEXT    NOT NULL CHECK (mime IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    width           BIGINT  NOT NULL CHECK (width > 0),
    height          BIGINT  NOT NULL CHECK (height > 0),
    bytes           BIGINT  NOT NULL CHECK (bytes > 0),
    thumb_width     BIGINT  NOT NULL CHECK (thumb_width > 0),
    thumb_height    BIGINT  NOT NULL CHECK (thumb_height > 0),
    uploaded_by     TEXT    NOT NULL CHECK (uploaded_by IN ('visitor', 'agent')),
    agent_id        BIGINT  REFERENCES users (id),
    created_at      BIGINT  NOT NULL,
    -- The image this one is an annotated copy of.
    source_image    TEXT    REFERENCES images (id),
    -- The annotations' vector document (JSON text), opaque to the server.
    annotations     TEXT
);
CREATE INDEX images_conversation ON images (conversation_id, created_at);
