-- The alert's title as a column of its own (issue 9). The correlation worker reads the titles of every alert a run
-- matched (about 2,000 in a run of the benchmark) and parsed each one's JSON document for it: two thirds of that read's
-- time. Written with every version; a revoked or expired alert's is emptied with its content. The empty default is what
-- the previous release writes if the image is rolled back (ADR 3), so readers take the document's title when it is empty
-- (AlertStore.TitleOf).
ALTER TABLE alerts ADD COLUMN title TEXT NOT NULL DEFAULT '';
UPDATE alerts SET title = COALESCE(document ->> 'title', '') WHERE status = 'active';
