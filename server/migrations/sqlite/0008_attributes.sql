-- Rollups by visitor attribute (`group_by=attr:plan`): the same counts per
-- declared attribute `name` and its `value`, a row for each attribute an
-- event carries, with a month twin like pages and segments. Events stored
-- before carried undeclared attributes only (no site could declare any), so
-- there is nothing to fill: `touchpoint rollup rebuild` counts a key a site
-- declares later in the events stored before.

CREATE TABLE rollup_attributes (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    name         TEXT NOT NULL,          -- a key of [site] attributes
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    impressions  INTEGER NOT NULL DEFAULT 0,
    responses    INTEGER NOT NULL DEFAULT 0,
    dismissals   INTEGER NOT NULL DEFAULT 0,
    comments     INTEGER NOT NULL DEFAULT 0,
    signals      INTEGER NOT NULL DEFAULT 0,
    signal_views INTEGER NOT NULL DEFAULT 0,
    s0           INTEGER NOT NULL DEFAULT 0,
    s1           INTEGER NOT NULL DEFAULT 0,
    s2           INTEGER NOT NULL DEFAULT 0,
    s3           INTEGER NOT NULL DEFAULT 0,
    s4           INTEGER NOT NULL DEFAULT 0,
    s5           INTEGER NOT NULL DEFAULT 0,
    s6           INTEGER NOT NULL DEFAULT 0,
    s7           INTEGER NOT NULL DEFAULT 0,
    s8           INTEGER NOT NULL DEFAULT 0,
    s9           INTEGER NOT NULL DEFAULT 0,
    s10          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric)
) WITHOUT ROWID;

CREATE TABLE rollup_attribute_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric, item)
) WITHOUT ROWID;

CREATE TABLE rollup_attribute_months (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-01
    name         TEXT NOT NULL,          -- a key of [site] attributes
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    impressions  INTEGER NOT NULL DEFAULT 0,
    responses    INTEGER NOT NULL DEFAULT 0,
    dismissals   INTEGER NOT NULL DEFAULT 0,
    comments     INTEGER NOT NULL DEFAULT 0,
    signals      INTEGER NOT NULL DEFAULT 0,
    signal_views INTEGER NOT NULL DEFAULT 0,
    s0           INTEGER NOT NULL DEFAULT 0,
    s1           INTEGER NOT NULL DEFAULT 0,
    s2           INTEGER NOT NULL DEFAULT 0,
    s3           INTEGER NOT NULL DEFAULT 0,
    s4           INTEGER NOT NULL DEFAULT 0,
    s5           INTEGER NOT NULL DEFAULT 0,
    s6           INTEGER NOT NULL DEFAULT 0,
    s7           INTEGER NOT NULL DEFAULT 0,
    s8           INTEGER NOT NULL DEFAULT 0,
    s9           INTEGER NOT NULL DEFAULT 0,
    s10          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric)
) WITHOUT ROWID;

CREATE TABLE rollup_attribute_month_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, name, value, touchpoint, stage, metric, item)
) WITHOUT ROWID;
