-- The SQL that GET /api/v1/alerts/{id} issues for one read, WITHOUT its audit record: the alert with the
-- sharing-policy facts (GetAlert), autocommitted. Compared with the same read mixed with the commit groups of its audit
-- records (read-audit-group.sql) to show what auditing every read costs the database (issues 4 and 9).
-- Variables from IntelSharing.Bench (pgbench -D): reader (the reading agency), alert (an alert it may see).
SELECT a.originator_id AS OriginatorId, a.tlp AS Tlp, a.has_audience AS HasAudience,
       EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = CAST(:reader AS uuid)) AS InAudience,
       EXISTS (SELECT 1 FROM agencies ag WHERE ag.id = CAST(:reader AS uuid) AND ag.is_active) AS AgencyActive,
       ((a.document -> 'persons' -> 0) IS NOT NULL) AS NamesPersons,
       a.version AS Version, a.document AS Document, a.status AS Status
FROM alerts a
WHERE a.id = CAST(:alert AS uuid);
