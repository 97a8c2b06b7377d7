-- Site names are no longer unique: a uniqueness error told one tenant the
-- names of another's sites. A site is found by its key; `touchpoint apply`
-- without a key matches a name only when exactly one site has it.
--
-- SQLite cannot drop a column's UNIQUE constraint: the table is rebuilt
-- (the documented procedure; the store runs migrations with foreign keys
-- off on their connection and checks them afterwards, so dropping the old
-- table deletes nothing that refers to it).

CREATE TABLE sites_new (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    origins     TEXT NOT NULL,          -- JSON array of allowed browser origins
    config      TEXT NOT NULL,          -- the stored configuration (see store/site_format.rs)
    retention_days INTEGER NOT NULL DEFAULT 365,  -- events older than this are purged
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

INSERT INTO sites_new (id, key, name, origins, config, retention_days, created_at, updated_at)
    SELECT id, key, name, origins, config, retention_days, created_at, updated_at FROM sites;

DROP TABLE sites;

ALTER TABLE sites_new RENAME TO sites;

CREATE INDEX sites_by_name ON sites (name);
