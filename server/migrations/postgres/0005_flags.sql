-- PostgreSQL twin of migrations/sqlite/0005_flags.sql.
-- Emotion flags on comments (src/emotion/), decided at ingest and import and
-- stored with the response; counted in the rollups as `flag:<name>` items.
-- Comments stored before have no flags yet: `touchpoint rollup rebuild`
-- decides them (and again whenever the lexicon's version changes).
ALTER TABLE events ADD COLUMN flags TEXT;               -- ';'-joined: frustration;delight;confusion; NULL: none
ALTER TABLE events ADD COLUMN flags_version BIGINT;     -- the lexicon version that decided them; NULL: not decided
