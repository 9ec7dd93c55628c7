-- Full-text search over alerts (docs/decisions/0021). title and body hold the alert's text already folded by the
-- application (Cyrillic to Latin, accents and case removed, Features/Alerts/AlertSearch.cs), as words separated by
-- single spaces. alert_search is the content table of an external-content FTS5 index, which the triggers keep in
-- step (the pattern of the FTS5 documentation); search_id gives the index a stable integer key, since the rowid of
-- a table without an INTEGER PRIMARY KEY (such as alerts) may change on VACUUM. Only active alerts have a row. The
-- application, at start, fills the rows of active alerts that have none (stored before this migration).
CREATE TABLE alert_search (
    search_id INTEGER PRIMARY KEY,
    alert_id TEXT NOT NULL UNIQUE REFERENCES alerts (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE VIRTUAL TABLE alert_search_fts USING fts5 (
    title, body, content = 'alert_search', content_rowid = 'search_id', tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER alert_search_indexed AFTER INSERT ON alert_search BEGIN
    INSERT INTO alert_search_fts (rowid, title, body) VALUES (new.search_id, new.title, new.body);
END;

CREATE TRIGGER alert_search_unindexed AFTER DELETE ON alert_search BEGIN
    INSERT INTO alert_search_fts (alert_search_fts, rowid, title, body) VALUES ('delete', old.search_id, old.title, old.body);
END;

CREATE TRIGGER alert_search_reindexed AFTER UPDATE ON alert_search BEGIN
    INSERT INTO alert_search_fts (alert_search_fts, rowid, title, body) VALUES ('delete', old.search_id, old.title, old.body);
    INSERT INTO alert_search_fts (rowid, title, body) VALUES (new.search_id, new.title, new.body);
END;
