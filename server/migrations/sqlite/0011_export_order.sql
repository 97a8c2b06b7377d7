-- Twin of migrations/postgres/0011_export_order.sql, which adds the id to
-- the events' time index there so that raw exports read rows of one time
-- in order without sorting them. Nothing changes here: SQLite's time index
-- ends with the rowid, which SQLite's exports break ties by.

SELECT 1;
