-- The blob sweep asks which blob names images still refer to. Keep in step with
-- the other backend's 0004_blob_names.sql.

CREATE INDEX images_sha256 ON images (sha256);
CREATE INDEX images_thumb_sha256 ON images (thumb_sha256);
