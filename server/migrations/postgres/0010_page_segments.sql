-- PostgreSQL twin of migrations/sqlite/0010_page_segments.sql.
-- Page rollups per device and locale, so that rows by page can be
-- filtered by both (the dashboard's pages table, /aggregates?group_by=page&
-- device=mobile). Tables of their own, with month twins: a page's rows a
-- day there are as many as the devices and locales it was answered from,
-- so only reports that filter pages by device or locale read them; reports
-- by page alone keep reading rollup_pages.
--
-- They cannot be filled from what was kept: every site is listed in
-- `rollup_rebuilds`, which the server works through when it opens the
-- database (each site's rollups rebuilt from its raw events in one
-- transaction that also takes it off the list), before it serves anything.

CREATE TABLE rollup_page_segments (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    page         TEXT NOT NULL,
    device       TEXT NOT NULL,          -- 'unknown' when not told
    locale       TEXT NOT NULL,          -- 'unknown' when not told
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
    PRIMARY KEY (site_id, day, page, device, locale, touchpoint, stage, metric)
);

CREATE TABLE rollup_page_segment_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    page         TEXT NOT NULL,
    device       TEXT NOT NULL,          -- 'unknown' when not told
    locale       TEXT NOT NULL,          -- 'unknown' when not told
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, page, device, locale, touchpoint, stage, metric, item)
);

CREATE INDEX rollup_page_segments_by_page ON rollup_page_segments (site_id, page, day);

CREATE TABLE rollup_page_segment_months (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-01
    page         TEXT NOT NULL,
    device       TEXT NOT NULL,          -- 'unknown' when not told
    locale       TEXT NOT NULL,          -- 'unknown' when not told
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
    PRIMARY KEY (site_id, day, page, device, locale, touchpoint, stage, metric)
);

CREATE TABLE rollup_page_segment_month_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-01
    page         TEXT NOT NULL,
    device       TEXT NOT NULL,          -- 'unknown' when not told
    locale       TEXT NOT NULL,          -- 'unknown' when not told
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, page, device, locale, touchpoint, stage, metric, item)
);

CREATE INDEX rollup_page_segment_months_by_page ON rollup_page_segment_months (site_id, page, day);

-- Sites whose rollups must be rebuilt from raw events before the server
-- serves: a migration that changes what rollups count lists them here.
CREATE TABLE rollup_rebuilds (
    site_id      BIGINT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    reason       TEXT NOT NULL
);

INSERT INTO rollup_rebuilds (site_id, reason)
SELECT id, 'page rollups per device and locale' FROM sites;
