-- PostgreSQL twin of migrations/sqlite/0001_init.sql: same tables, same
-- columns, same meaning. Integers are BIGINT throughout so both databases
-- decode them alike.

CREATE TABLE sites (
    id          BIGSERIAL PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    origins     TEXT NOT NULL,
    config      TEXT NOT NULL,
    retention_days BIGINT NOT NULL DEFAULT 365,  -- events older than this are purged
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE tokens (
    id          BIGSERIAL PRIMARY KEY,
    site_id     BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    hash        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE events (
    site_id     BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    touchpoint  TEXT,
    page        TEXT NOT NULL,
    stage       TEXT NOT NULL,
    metric      TEXT,
    score       BIGINT,
    comment     TEXT,
    choices     TEXT,
    visitor     TEXT,
    session     TEXT,
    ts          TEXT NOT NULL,
    received_at TEXT NOT NULL,
    locale      TEXT,
    device      TEXT,
    attributes  TEXT,
    signal      TEXT,
    gpc         BIGINT,                 -- 1: the browser sent Global Privacy Control
    consent     BIGINT,                 -- 1 or 0: what the page said through touchpoint('consent', ...)
    PRIMARY KEY (site_id, id)
);

CREATE INDEX events_by_site_kind_ts ON events (site_id, kind, ts);
CREATE INDEX events_by_site_visitor ON events (site_id, visitor);
