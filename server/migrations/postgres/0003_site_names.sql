-- PostgreSQL twin of migrations/sqlite/0003_site_names.sql: site names are
-- no longer unique (a uniqueness error told one tenant the names of
-- another's sites).

ALTER TABLE sites DROP CONSTRAINT IF EXISTS sites_name_key;

CREATE INDEX sites_by_name ON sites (name);
