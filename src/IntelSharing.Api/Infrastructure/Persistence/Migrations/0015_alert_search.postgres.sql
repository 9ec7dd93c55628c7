-- Full-text search over alerts (docs/decisions/0021). title and body hold the alert's text already folded by the
-- application (Cyrillic to Latin, accents and case removed, Features/Alerts/AlertSearch.cs), as words separated by
-- single spaces; the 'simple' configuration only splits them, so no language's stemming or stop words apply to a
-- text that mixes Serbian, Hungarian, German and English. The vector is computed by PostgreSQL in the same INSERT
-- or UPDATE that stores the text and indexed with GIN. Only active alerts have a row. The application fills the
-- rows of alerts stored before this migration inside the migration's own transaction.
CREATE TABLE alert_search (
    alert_id uuid PRIMARY KEY REFERENCES alerts (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || body)) STORED
);
CREATE INDEX ix_alert_search_vector ON alert_search USING gin (vector);
