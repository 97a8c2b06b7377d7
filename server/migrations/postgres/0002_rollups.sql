-- PostgreSQL twin of migrations/sqlite/0002_rollups.sql: same tables, same
-- counts (see there), BIGINT throughout.

-- Per site, local day, touchpoint, stage and metric: what the journey map,
-- trends and reports by stage, touchpoint, day or week read.
CREATE TABLE rollup_days (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    touchpoint   TEXT NOT NULL,          -- '' for events of no touchpoint (signals)
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,          -- '' for events of no touchpoint
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
    PRIMARY KEY (site_id, day, touchpoint, stage, metric)
);

CREATE TABLE rollup_day_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,          -- choice:<option>, signal:<name>; later flag:<name>
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, touchpoint, stage, metric, item)
);

-- The same per device and locale (NULL kept as 'unknown'): few values each.
CREATE TABLE rollup_segments (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    device       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,          -- '' for events of no touchpoint (signals)
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,          -- '' for events of no touchpoint
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
    PRIMARY KEY (site_id, day, device, locale, touchpoint, stage, metric)
);

CREATE TABLE rollup_segment_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    device       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,          -- choice:<option>, signal:<name>; later flag:<name>
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, device, locale, touchpoint, stage, metric, item)
);

-- The same per page, in a table of its own: a shop's 100 000 product pages
-- are read only when a report groups or filters by page.
CREATE TABLE rollup_pages (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    page         TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,          -- '' for events of no touchpoint (signals)
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,          -- '' for events of no touchpoint
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
    PRIMARY KEY (site_id, day, page, touchpoint, stage, metric)
);

CREATE TABLE rollup_page_items (
    site_id      BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    page         TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,          -- choice:<option>, signal:<name>; later flag:<name>
    n            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, page, touchpoint, stage, metric, item)
);

CREATE INDEX rollup_pages_by_page ON rollup_pages (site_id, page, day);

-- Rollups of the events stored before: every site's time zone was UTC then,
-- so a day is the first ten characters of the stored UTC time.
INSERT INTO rollup_days (site_id, day, touchpoint, stage, metric, impressions, responses, dismissals, comments, signals, signal_views, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
SELECT e.site_id,
    substr(e.ts, 1, 10),
    COALESCE(e.touchpoint, ''),
    e.stage,
    COALESCE(e.metric, ''),
    SUM(CASE WHEN e.kind = 'impression' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'dismiss' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.comment IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'signal' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'impression' AND e.visitor IS NOT NULL AND e.session IS NOT NULL AND EXISTS (
        SELECT 1 FROM events s WHERE s.site_id = e.site_id AND s.visitor = e.visitor
        AND s.session = e.session AND s.page = e.page AND s.kind = 'signal') THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 1 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 2 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 3 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 4 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 6 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 7 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 8 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 9 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 10 THEN 1 ELSE 0 END)
FROM events e
WHERE e.kind IN ('impression', 'response', 'dismiss', 'signal')
GROUP BY e.site_id, substr(e.ts, 1, 10), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, '');

INSERT INTO rollup_day_items (site_id, day, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'choice:' || c.value, COUNT(*)
FROM events e CROSS JOIN LATERAL json_array_elements_text(e.choices::json) AS c(value)
WHERE e.kind = 'response' AND e.choices IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), c.value;

INSERT INTO rollup_day_items (site_id, day, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'signal:' || e.signal, COUNT(*)
FROM events e
WHERE e.kind = 'signal' AND e.signal IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), e.signal;

INSERT INTO rollup_segments (site_id, day, device, locale, touchpoint, stage, metric, impressions, responses, dismissals, comments, signals, signal_views, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
SELECT e.site_id,
    substr(e.ts, 1, 10),
    COALESCE(e.device, 'unknown'),
    COALESCE(e.locale, 'unknown'),
    COALESCE(e.touchpoint, ''),
    e.stage,
    COALESCE(e.metric, ''),
    SUM(CASE WHEN e.kind = 'impression' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'dismiss' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.comment IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'signal' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'impression' AND e.visitor IS NOT NULL AND e.session IS NOT NULL AND EXISTS (
        SELECT 1 FROM events s WHERE s.site_id = e.site_id AND s.visitor = e.visitor
        AND s.session = e.session AND s.page = e.page AND s.kind = 'signal') THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 1 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 2 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 3 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 4 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 6 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 7 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 8 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 9 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 10 THEN 1 ELSE 0 END)
FROM events e
WHERE e.kind IN ('impression', 'response', 'dismiss', 'signal')
GROUP BY e.site_id, substr(e.ts, 1, 10), COALESCE(e.device, 'unknown'), COALESCE(e.locale, 'unknown'), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, '');

INSERT INTO rollup_segment_items (site_id, day, device, locale, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), COALESCE(e.device, 'unknown'), COALESCE(e.locale, 'unknown'), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'choice:' || c.value, COUNT(*)
FROM events e CROSS JOIN LATERAL json_array_elements_text(e.choices::json) AS c(value)
WHERE e.kind = 'response' AND e.choices IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), COALESCE(e.device, 'unknown'), COALESCE(e.locale, 'unknown'), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), c.value;

INSERT INTO rollup_segment_items (site_id, day, device, locale, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), COALESCE(e.device, 'unknown'), COALESCE(e.locale, 'unknown'), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'signal:' || e.signal, COUNT(*)
FROM events e
WHERE e.kind = 'signal' AND e.signal IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), COALESCE(e.device, 'unknown'), COALESCE(e.locale, 'unknown'), COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), e.signal;

INSERT INTO rollup_pages (site_id, day, page, touchpoint, stage, metric, impressions, responses, dismissals, comments, signals, signal_views, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10)
SELECT e.site_id,
    substr(e.ts, 1, 10),
    e.page,
    COALESCE(e.touchpoint, ''),
    e.stage,
    COALESCE(e.metric, ''),
    SUM(CASE WHEN e.kind = 'impression' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'dismiss' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.comment IS NOT NULL THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'signal' THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'impression' AND e.visitor IS NOT NULL AND e.session IS NOT NULL AND EXISTS (
        SELECT 1 FROM events s WHERE s.site_id = e.site_id AND s.visitor = e.visitor
        AND s.session = e.session AND s.page = e.page AND s.kind = 'signal') THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 0 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 1 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 2 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 3 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 4 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 5 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 6 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 7 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 8 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 9 THEN 1 ELSE 0 END),
    SUM(CASE WHEN e.kind = 'response' AND e.score = 10 THEN 1 ELSE 0 END)
FROM events e
WHERE e.kind IN ('impression', 'response', 'dismiss', 'signal')
GROUP BY e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, '');

INSERT INTO rollup_page_items (site_id, day, page, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'choice:' || c.value, COUNT(*)
FROM events e CROSS JOIN LATERAL json_array_elements_text(e.choices::json) AS c(value)
WHERE e.kind = 'response' AND e.choices IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), c.value;

INSERT INTO rollup_page_items (site_id, day, page, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'signal:' || e.signal, COUNT(*)
FROM events e
WHERE e.kind = 'signal' AND e.signal IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), e.signal;
