-- Month twins of the page and segment rollups: the same counts with `day`
-- holding the first day of the month (YYYY-MM-01, the site's time zone).
-- A report by page, device or locale reads whole months here and only the
-- days at the edges of its range from the day tables, so a year of a shop's
-- pages is twelve rows per page, not 365. Kept by the same upserts, rebuilt
-- by `touchpoint rollup rebuild` like every rollup.

CREATE TABLE rollup_page_months (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-01
    page         TEXT NOT NULL,
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
    PRIMARY KEY (site_id, day, page, touchpoint, stage, metric)
) WITHOUT ROWID;

CREATE TABLE rollup_page_month_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    page         TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, page, touchpoint, stage, metric, item)
) WITHOUT ROWID;

CREATE INDEX rollup_page_months_by_page ON rollup_page_months (site_id, page, day);

INSERT INTO rollup_page_months (site_id, day, page, touchpoint, stage, metric, impressions, responses, dismissals, comments, signals, signal_views, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
SELECT site_id, substr(day, 1, 8) || '01', page, touchpoint, stage, metric, SUM(impressions), SUM(responses), SUM(dismissals), SUM(comments), SUM(signals), SUM(signal_views), SUM(s0), SUM(s1), SUM(s2), SUM(s3), SUM(s4), SUM(s5), SUM(s6), SUM(s7), SUM(s8), SUM(s9), SUM(s10)
FROM rollup_pages GROUP BY site_id, substr(day, 1, 8) || '01', page, touchpoint, stage, metric;

INSERT INTO rollup_page_month_items (site_id, day, page, touchpoint, stage, metric, item, n)
SELECT site_id, substr(day, 1, 8) || '01', page, touchpoint, stage, metric, item, SUM(n)
FROM rollup_page_items GROUP BY site_id, substr(day, 1, 8) || '01', page, touchpoint, stage, metric, item;

CREATE TABLE rollup_segment_months (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-01
    device       TEXT NOT NULL,
    locale       TEXT NOT NULL,
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
    PRIMARY KEY (site_id, day, device, locale, touchpoint, stage, metric)
) WITHOUT ROWID;

CREATE TABLE rollup_segment_month_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    device       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, device, locale, touchpoint, stage, metric, item)
) WITHOUT ROWID;

INSERT INTO rollup_segment_months (site_id, day, device, locale, touchpoint, stage, metric, impressions, responses, dismissals, comments, signals, signal_views, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
SELECT site_id, substr(day, 1, 8) || '01', device, locale, touchpoint, stage, metric, SUM(impressions), SUM(responses), SUM(dismissals), SUM(comments), SUM(signals), SUM(signal_views), SUM(s0), SUM(s1), SUM(s2), SUM(s3), SUM(s4), SUM(s5), SUM(s6), SUM(s7), SUM(s8), SUM(s9), SUM(s10)
FROM rollup_segments GROUP BY site_id, substr(day, 1, 8) || '01', device, locale, touchpoint, stage, metric;

INSERT INTO rollup_segment_month_items (site_id, day, device, locale, touchpoint, stage, metric, item, n)
SELECT site_id, substr(day, 1, 8) || '01', device, locale, touchpoint, stage, metric, item, SUM(n)
FROM rollup_segment_items GROUP BY site_id, substr(day, 1, 8) || '01', device, locale, touchpoint, stage, metric, item;
