-- Full-text search over alerts (docs/decisions/0021). title and body hold the alert's text already folded by the
-- application (Cyrillic to Latin, accents and case removed, Features/Alerts/AlertSearch.cs), as words of letters and
-- digits separated by single spaces. The vector is those words as they are: tsvector's input function takes them
-- verbatim, with no language's stemming or stop words (the text mixes Serbian, Hungarian, German and English), at
-- a third of the CPU of to_tsvector, whose parser would only split them again. PostgreSQL computes it in the same
-- INSERT or UPDATE that stores the text, and GIN indexes it. Only active alerts have a row. At start the application
-- fills the rows of active alerts that have none (stored before this migration), however it was applied.
CREATE TABLE alert_search (
    alert_id uuid PRIMARY KEY REFERENCES alerts (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    vector tsvector GENERATED ALWAYS AS (CAST(title || ' ' || body AS tsvector)) STORED
);
CREATE INDEX ix_alert_search_vector ON alert_search USING gin (vector);
