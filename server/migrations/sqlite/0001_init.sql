-- Sites, their API tokens, and the raw events: the source of truth from
-- which every aggregate is derived.

CREATE TABLE sites (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    origins     TEXT NOT NULL,          -- JSON array of allowed browser origins
    config      TEXT NOT NULL,          -- JSON {stages, touchpoints}
    retention_days INTEGER NOT NULL DEFAULT 365,  -- events older than this are purged
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    hash        TEXT NOT NULL UNIQUE,   -- SHA-256 of the token; the token itself is never stored
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- People who sign in to the dashboard, and what they may do on which site.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,   -- lower-cased
    password_hash TEXT NOT NULL,          -- argon2id, PHC string
    created_at    TEXT NOT NULL
);

CREATE TABLE memberships (
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
    PRIMARY KEY (user_id, site_id)
);

CREATE TABLE sessions (
    hash        TEXT PRIMARY KEY,         -- SHA-256 of the cookie value
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,            -- sent back in X-CSRF-Token on writes
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

CREATE TABLE events (
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,          -- sender's UUID, the idempotency key
    kind        TEXT NOT NULL,
    touchpoint  TEXT,
    page        TEXT NOT NULL,          -- normalised path, never a query string
    stage       TEXT NOT NULL,          -- resolved at ingest
    metric      TEXT,
    score       INTEGER,
    comment     TEXT,                   -- PII masked before storage
    choices     TEXT,                   -- JSON array
    visitor     TEXT,
    session     TEXT,
    ts          TEXT NOT NULL,          -- UTC, RFC 3339 with milliseconds: sorts as text
    received_at TEXT NOT NULL,
    locale      TEXT,
    device      TEXT,
    attributes  TEXT,                   -- JSON object
    signal      TEXT,
    gpc         INTEGER,                 -- 1: the browser sent Global Privacy Control
    consent     INTEGER,                 -- 1 or 0: what the page said through touchpoint('consent', ...)
    PRIMARY KEY (site_id, id)
);

CREATE INDEX events_by_site_kind_ts ON events (site_id, kind, ts);
CREATE INDEX events_by_site_visitor ON events (site_id, visitor);
