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

-- People who sign in to the dashboard, and what they may do on which site.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,   -- lower-cased
    password_hash TEXT NOT NULL,          -- argon2id, PHC string
    created_at    TEXT NOT NULL
);

CREATE TABLE memberships (
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id     BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    PRIMARY KEY (user_id, site_id)
);

CREATE TABLE sessions (
    hash        TEXT PRIMARY KEY,         -- SHA-256 of the cookie value
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,            -- sent back in X-CSRF-Token on writes
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
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
