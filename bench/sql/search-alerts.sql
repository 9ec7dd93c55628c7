-- The statement GET /api/v1/alerts?q=<one word>&limit=20 runs (ListAlerts, first page, no filter), as the search phase
-- EXPLAINs it: the visible alerts holding the word, newest change first, a page at a time (ADR 35). For a common word
-- PostgreSQL walks ix_alerts_updated backwards and tests the word on each row until the page is full; for a rare one it
-- reads the GIN index and sorts the matches. Kept in step with ListAlerts.cs by hand. The API runs it inside a
-- transaction with SET LOCAL statement_timeout.
-- Variables (replaced by IntelSharing.Bench): reader (the searching agency), words (the folded words as a tsquery),
-- take (the page plus one).
SELECT a.id AS Id, a.updated_at AS UpdatedAt, a.document AS Document, ((a.document -> 'persons' -> 0) IS NOT NULL) AS NamesPersons
FROM alerts a JOIN alert_search s ON s.alert_id = a.id
WHERE (EXISTS (SELECT 1 FROM agencies viewer WHERE viewer.id = :reader AND viewer.is_active)
       AND (a.originator_id = :reader
        OR a.tlp IN ('clear', 'green')
        OR (a.tlp = 'amber' AND NOT a.has_audience)
        OR (a.tlp IN ('amber', 'amber+strict', 'red')
            AND EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = :reader))))
  AND s.vector @@ CAST(:words AS tsquery)
ORDER BY a.updated_at DESC, a.id DESC LIMIT :take;
