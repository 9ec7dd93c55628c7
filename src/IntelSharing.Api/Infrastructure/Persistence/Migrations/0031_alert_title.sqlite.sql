-- The alert's title as a column of its own (issue 9, ADR 47), generated from the document, so it is right whoever writes
-- the row and goes with the content of a tombstone. SQLite adds only virtual generated columns to a table: computed when
-- read, as the document's title was before; the column is there so that both databases are read by one statement.
ALTER TABLE alerts ADD COLUMN title TEXT GENERATED ALWAYS AS (json_extract(document, '$.title')) VIRTUAL;
