-- PostgreSQL twin of migrations/sqlite/0008_attributes.sql.
-- Rollups by visitor attribute (`group_by=attr:plan`): the same counts per
-- declared attribute `name` and its `value`, a row for each attribute an
-- event carries, with a month twin like pages and segments. Events stored
-- before carried undeclared attributes only (no site could declare any), so
-- there is nothing to fill: `touchpoint rollup rebuild` counts a key a site
-- declares later in the events stored before.

CREATE TABLE rollup_attributes (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    name         TEXT NOT NULL,          -- a key of [site] attributes
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    impressions  BIGINT NOT NULL DEFAULT 0,
    responses    BIGINT NOT NULL DEFAULT 0,
    dismissals   BIGINT NOT NULL DEFAULT 0,
    comments     BIGINT NOT NULL DEFAULT 0,
    signals      BIGINT NOT NULL DEFAULT 0,
    signal_views BIGINT NOT NULL DEFAULT 0,
    s0           BIGINT NOT NULL DEFAULT 0,
    s1           BIGINT NOT NULL DEFAULT 0,
    s2           BIGINT NOT NULL DEFAULT 0,
    s3           BIGINT NOT NULL DEFAULT 0,
    s4           BIGINT NOT NULL DEFAULT 0,
    s5           BIGINT NOT NULL DEFAULT 0,
    s6           BIGINT NOT NULL DEFAULT 0,
    s7           BIGINT NOT NULL DEFAULT 0,
    s8           BIGINT NOT NULL DEFAULT 0,
    s9           BIGINT NOT NULL DEFAULT 0,
    s10          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric)
);

CREATE TABLE rollup_attribute_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric, item)
);

CREATE TABLE rollup_attribute_months (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-01
    name         TEXT NOT NULL,          -- a key of [site] attributes
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    impressions  BIGINT NOT NULL DEFAULT 0,
    responses    BIGINT NOT NULL DEFAULT 0,
    dismissals   BIGINT NOT NULL DEFAULT 0,
    comments     BIGINT NOT NULL DEFAULT 0,
    signals      BIGINT NOT NULL DEFAULT 0,
    signal_views BIGINT NOT NULL DEFAULT 0,
    s0           BIGINT NOT NULL DEFAULT 0,
    s1           BIGINT NOT NULL DEFAULT 0,
    s2           BIGINT NOT NULL DEFAULT 0,
    s3           BIGINT NOT NULL DEFAULT 0,
    s4           BIGINT NOT NULL DEFAULT 0,
    s5           BIGINT NOT NULL DEFAULT 0,
    s6           BIGINT NOT NULL DEFAULT 0,
    s7           BIGINT NOT NULL DEFAULT 0,
    s8           BIGINT NOT NULL DEFAULT 0,
    s9           BIGINT NOT NULL DEFAULT 0,
    s10          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric)
);

CREATE TABLE rollup_attribute_month_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric, item)
);
