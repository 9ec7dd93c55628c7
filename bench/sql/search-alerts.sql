-- The statement GET /api/v1/alerts?q=<one word>&limit=20 runs (ListAlerts, first page, no filter), as the search phase
-- EXPLAINs it: the matches the caller may see ranked on ids, change times and the rank alone, then the page's documents
-- joined. Kept in step with ListAlerts.cs by hand. The API runs it inside a transaction with SET LOCAL statement_timeout.
-- Variables (replaced by IntelSharing.Bench): reader (the searching agency), words (the folded words as a tsquery),
-- title1 (the first word as a LIKE pattern, ' % word % '), take (the page plus one).
SELECT a.id AS Id, a.updated_at AS UpdatedAt, a.document AS Document, ((a.document -> 'persons' -> 0) IS NOT NULL) AS NamesPersons,
       page.SearchRank AS SearchRank
FROM (
    SELECT * FROM (
        SELECT a.id AS Id, a.updated_at AS UpdatedAt, (CASE WHEN (' ' || s.title || ' ') LIKE :title1 THEN 0 ELSE 1 END) AS SearchRank
        FROM alerts a JOIN alert_search s ON s.alert_id = a.id
        WHERE (EXISTS (SELECT 1 FROM agencies viewer WHERE viewer.id = :reader AND viewer.is_active)
               AND (a.originator_id = :reader
                OR a.tlp IN ('clear', 'green')
                OR (a.tlp = 'amber' AND NOT a.has_audience)
                OR (a.tlp IN ('amber', 'amber+strict', 'red')
                    AND EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = :reader))))
          AND s.vector @@ CAST(:words AS tsquery)
    ) ranked
    ORDER BY ranked.SearchRank, ranked.UpdatedAt DESC, ranked.Id DESC LIMIT :take
) page JOIN alerts a ON a.id = page.Id
ORDER BY page.SearchRank, page.UpdatedAt DESC, page.Id DESC;
