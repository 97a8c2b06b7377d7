-- A site's draft: changes saved in the dashboard but not yet live. One per
-- site; publishing applies it as `PUT /site` would and deletes it. The
-- document is the site file as JSON (secrets as sent, never masked).

CREATE TABLE site_drafts (
    site_id     INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    document    TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL           -- the session's e-mail, or "an API token"
);
