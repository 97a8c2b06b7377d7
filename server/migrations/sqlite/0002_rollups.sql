-- Rollups: counts per site and local day that every aggregate, the journey
-- map and trends read instead of raw events. A cache of `events`, kept in
-- the same transaction as every insert and deletion there (store/rollups.rs)
-- and recreated from it by `touchpoint rollup rebuild`.
--
-- Counts: impressions, responses, dismissals, comments (responses with one),
-- signals (behavioural, on rows of no touchpoint), signal_views (impressions
-- whose page view -- same visitor, session and page -- also recorded a
-- signal) and the score histogram s0..s10. Items: counts without a fixed
-- column (choice options, signal names; emotion flags next).

-- Per site, local day, touchpoint, stage and metric: what the journey map,
-- trends and reports by stage, touchpoint, day or week read.
CREATE TABLE rollup_days (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    touchpoint   TEXT NOT NULL,          -- '' for events of no touchpoint (signals)
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,          -- '' for events of no touchpoint
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
    PRIMARY KEY (site_id, day, touchpoint, stage, metric)
) WITHOUT ROWID;

CREATE TABLE rollup_day_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,          -- choice:<option>, signal:<name>; later flag:<name>
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, touchpoint, stage, metric, item)
) WITHOUT ROWID;

-- The same per device and locale (NULL kept as 'unknown'): few values each.
CREATE TABLE rollup_segments (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    device       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,          -- '' for events of no touchpoint (signals)
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,          -- '' for events of no touchpoint
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

CREATE TABLE rollup_segment_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    device       TEXT NOT NULL,
    locale       TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,          -- choice:<option>, signal:<name>; later flag:<name>
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, device, locale, touchpoint, stage, metric, item)
) WITHOUT ROWID;

-- The same per page, in a table of its own: a shop's 100 000 product pages
-- are read only when a report groups or filters by page.
CREATE TABLE rollup_pages (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,          -- YYYY-MM-DD in the site's time zone
    page         TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,          -- '' for events of no touchpoint (signals)
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,          -- '' for events of no touchpoint
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

CREATE TABLE rollup_page_items (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    page         TEXT NOT NULL,
    touchpoint   TEXT NOT NULL,
    stage        TEXT NOT NULL,
    metric       TEXT NOT NULL,
    item         TEXT NOT NULL,          -- choice:<option>, signal:<name>; later flag:<name>
    n            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, page, touchpoint, stage, metric, item)
) WITHOUT ROWID;

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
FROM events e, json_each(e.choices) AS c
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
FROM events e, json_each(e.choices) AS c
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
FROM events e, json_each(e.choices) AS c
WHERE e.kind = 'response' AND e.choices IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), c.value;

INSERT INTO rollup_page_items (site_id, day, page, touchpoint, stage, metric, item, n)
SELECT e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), 'signal:' || e.signal, COUNT(*)
FROM events e
WHERE e.kind = 'signal' AND e.signal IS NOT NULL
GROUP BY e.site_id, substr(e.ts, 1, 10), e.page, COALESCE(e.touchpoint, ''), e.stage, COALESCE(e.metric, ''), e.signal;
