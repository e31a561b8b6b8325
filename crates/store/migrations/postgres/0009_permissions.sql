-- Permissions and the site policy. Each agent's capabilities an admin allows
-- (1: allowed; every existing and new account starts with all of them), and the
-- one row of the site-wide policy: capabilities allowed to anyone at all, and the
-- private CSS selectors the widget applies on every page (one per line; the
-- server refuses a selector with a line break). Keep in step with the other
-- backend's 0009_permissions.sql.

ALTER TABLE users ADD COLUMN may_screen_share SMALLINT NOT NULL DEFAULT 1 CHECK (may_screen_share IN (0, 1));
ALTER TABLE users ADD COLUMN may_cobrowse SMALLINT NOT NULL DEFAULT 1 CHECK (may_cobrowse IN (0, 1));
ALTER TABLE users ADD COLUMN may_remote_control SMALLINT NOT NULL DEFAULT 1 CHECK (may_remote_control IN (0, 1));
ALTER TABLE users ADD COLUMN may_session_keys SMALLINT NOT NULL DEFAULT 1 CHECK (may_session_keys IN (0, 1));

CREATE TABLE site_policy (
    id                 SMALLINT PRIMARY KEY CHECK (id = 1),
    may_screen_share   SMALLINT NOT NULL CHECK (may_screen_share IN (0, 1)),
    may_cobrowse       SMALLINT NOT NULL CHECK (may_cobrowse IN (0, 1)),
    may_remote_control SMALLINT NOT NULL CHECK (may_remote_control IN (0, 1)),
    may_session_keys   SMALLINT NOT NULL CHECK (may_session_keys IN (0, 1)),
    private_selectors  TEXT NOT NULL,
    changed_at         BIGINT NOT NULL,
    changed_by         BIGINT REFERENCES users (id) ON DELETE SET NULL
);
