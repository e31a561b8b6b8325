-- An account whose password was generated and shown by the server (the first
-- admin's) must choose its own before doing anything else. Keep in step with the
-- other backend's 0003_password_change.sql.

ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
