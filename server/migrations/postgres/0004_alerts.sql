-- PostgreSQL twin of migrations/sqlite/0004_alerts.sql.
-- Alerts: the outbox between a stored answer and the person it must reach
-- (store/outbox.rs, the worker in src/alerts/).
--
-- An alert item is written in the same transaction as the answer that makes
-- it worth one (Store::insert_batches), so an acknowledged detractor is in
-- the outbox even if the server dies the next instant. A worker then groups
-- due items into deliveries (one message each: a single alert, or a digest)
-- and posts them, retrying until a day has passed.

-- One alert-worthy event for one destination. The message reads the event
-- itself when it is sent (so a follow-up's comment is in it, and an erased
-- visitor's answer is not).
CREATE TABLE alert_items (
    id          BIGSERIAL PRIMARY KEY,
    site_id     BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,          -- fingerprint of the destination's URL
    event_id    TEXT NOT NULL,
    reasons     TEXT NOT NULL,          -- ','-joined: detractor, low_score, frustration, signal
    flags       TEXT NOT NULL DEFAULT '', -- ','-joined emotion flags of the comment
    created_at  TEXT NOT NULL,
    due_at      TEXT NOT NULL,          -- when its message may go: now, after a follow-up's grace, or its digest window's end
    delivery_id TEXT,                   -- NULL while it waits for a message
    UNIQUE (site_id, destination, event_id)
);

CREATE INDEX alert_items_waiting ON alert_items (due_at) WHERE delivery_id IS NULL;
CREATE INDEX alert_items_by_delivery ON alert_items (delivery_id);

-- One message to one destination: X-Touchpoint-Delivery is its id, the same
-- on every attempt.
CREATE TABLE alert_deliveries (
    id          TEXT PRIMARY KEY,       -- UUID
    site_id     BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    destination TEXT NOT NULL,
    host        TEXT NOT NULL,          -- scheme and host of the URL, for the log
    kind        TEXT NOT NULL CHECK (kind IN ('alert', 'digest', 'test')),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    items       BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    next_attempt_at TEXT,               -- pending only
    lease_owner TEXT,                   -- the worker sending it now ...
    lease_until TEXT,                   -- ... until then (a dead worker's lease runs out)
    last_status BIGINT,                -- HTTP status of the last answer
    last_error  TEXT,
    sent_at     TEXT
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_deliveries_by_site ON alert_deliveries (site_id, created_at);
CREATE INDEX alert_deliveries_by_destination ON alert_deliveries (site_id, destination, created_at);

-- One row: the worker that groups items into deliveries updates it first,
-- so groupings happen one at a time (on SQLite it takes the write lock, on
-- PostgreSQL the row's).
CREATE TABLE alert_grouping (
    id      BIGINT PRIMARY KEY,
    ran_at  TEXT NOT NULL
);

INSERT INTO alert_grouping (id, ran_at) VALUES (1, '');
