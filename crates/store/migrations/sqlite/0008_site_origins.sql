-- Site origins the admin allowed in the console, beside the configured
-- allowed_origins (which stay, and are not stored). Normalised
-- `scheme://host[:port]`. Keep in step with the other backend's
-- 0008_site_origins.sql.

CREATE TABLE site_origins (
    origin TEXT PRIMARY KEY,
    added_at BIGINT NOT NULL,
    added_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
