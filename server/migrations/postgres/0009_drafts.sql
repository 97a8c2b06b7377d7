-- PostgreSQL twin of migrations/sqlite/0009_drafts.sql.

CREATE TABLE site_drafts (
    site_id     BIGINT PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    document    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);
