-- Outcomes: `touchpoint('track', id)` on a declared `[[outcome]]` is stored
-- as an event of kind `outcome` with its id here. `/outcomes` asks, per
-- visitor, when they last reached one: along this index.
ALTER TABLE events ADD COLUMN outcome TEXT;
CREATE INDEX events_outcomes ON events (site_id, outcome, visitor, ts) WHERE kind = 'outcome';
