-- read-alert.sql plus the audit record AuditedEndpointFilter writes for the read (AuditWriter, its own
-- autocommitted INSERT): the read exactly as the service issues it. Variables as in read-alert.sql.
SELECT a.originator_id AS OriginatorId, a.tlp AS Tlp, a.has_audience AS HasAudience,
       EXISTS (SELECT 1 FROM alert_audience aa WHERE aa.alert_id = a.id AND aa.agency_id = :reader) AS InAudience,
       EXISTS (SELECT 1 FROM agencies ag WHERE ag.id = :reader AND ag.is_active) AS AgencyActive,
       ((a.document -> 'persons' -> 0) IS NOT NULL) AS NamesPersons,
       a.version AS Version, a.document AS Document
FROM alerts a
WHERE a.id = :alert;
INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(random()::text), 18))::uuid, now(), :reader, :prefix, 'alert.read', 'alert', :alert, 200, NULL, '127.0.0.1', NULL);
