-- The SQL that GET /api/v1/alerts/{id} issues for one read, WITHOUT its audit record: the alert
-- with the sharing-policy facts (GetAlert), each autocommitted.
-- Compared with read-alert-audited.sql to show what auditing every read costs the database (issue 4).
-- Variables from IntelSharing.Bench (pgbench -D): prefix (the reader's key), reader (its agency), alert.
SELECT a.originator_id AS OriginatorId, a.tlp AS Tlp, a.has_audience AS HasAudience,
       EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = :reader) AS InAudience,
       EXISTS (SELECT 1 FROM agencies ag WHERE ag.id = :reader AND ag.is_active) AS AgencyActive,
       ((a.document -> 'persons' -> 0) IS NOT NULL) AS NamesPersons,
       a.version AS Version, a.document AS Document
FROM alerts a
WHERE a.id = :alert;
