-- Pictures kept for agents only and never posted (the unannotated base of an
-- annotated share snapshot). Keep in step with the other backend's
-- 0005_agents_only_images.sql.

ALTER TABLE images ADD COLUMN agents_only BIGINT NOT NULL DEFAULT 0 CHECK (agents_only IN (0, 1));
