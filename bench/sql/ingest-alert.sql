-- L_db: the SQL that POST /api/v1/alerts issues for one alert — with an Idempotency-Key and three matching
-- subscriptions — in the same order and the same round trips (\startpipeline groups what Npgsql sends in one
-- write: BEGIN with the subscription read and the Idempotency-Key claim, then the writes of the transaction, which
-- SubmitAlert sends as one batch — for a commit group of one; a group of n sends each multi-row statement once with
-- n rows, AlertStore.AddFirstVersions). Correlation runs after commit and is not part of this script. The service prepares these statements (Npgsql Max Auto Prepare): run with -M prepared.
-- The API key is read from the per-instance cache (ADR 14), so no key lookup runs per request.
-- Sources: AudienceResolver, SubmitAlert, AlertStore (AddFirstVersions), AlertSearch, IndicatorIndex, Outbox, AuditWriter.
-- Variables come from IntelSharing.Bench (pgbench -D): prefix, agency, doc, payload (a real stored alert and its
-- webhook payload), c1..c3 (its countries), s1..s3 and p1..p3 (the subscriptions and their agencies).
-- Ids are time-ordered like the service's UUIDv7: now() (fixed for a transaction) then random bits.
\set aid random(1, 9223372036854775806)
\set shared :aid % 900
SELECT id AS Id, name AS Name, country AS Country FROM agencies WHERE is_active AND id IN (:agency);
\startpipeline
BEGIN;
SELECT s.id AS Id, s.agency_id AS AgencyId, s.categories AS Categories, s.min_severity_rank AS MinSeverityRank,
       s.countries AS Countries, s.include_own_alerts AS IncludeOwnAlerts
FROM subscriptions s JOIN agencies a ON a.id = s.agency_id
WHERE s.status IN ('active', 'paused') AND a.is_active;
INSERT INTO idempotency_keys (agency_id, idempotency_key, request_hash, alert_id, created_at)
VALUES (:agency, md5(:aid::text), decode(md5(:aid::text) || md5(:aid::text || 'h'), 'hex'),
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, now())
ON CONFLICT (agency_id, idempotency_key) DO NOTHING RETURNING alert_id;
\endpipeline
\startpipeline
INSERT INTO alerts (id, originator_id, category, severity, severity_rank, tlp, handling_code, has_audience,
                    version, status, created_at, updated_at, review_at, expires_at, document)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid,
        :agency, 'migrant_smuggling', 'high', 2, 'green', 'H0', false, 1, 'active', now(), now(), NULL, NULL, CAST(:doc AS json));
INSERT INTO alert_versions (alert_id, version, created_at, document)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 1, now(), CAST(:doc AS json));
INSERT INTO alert_countries (alert_id, country)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, :c1),
       ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, :c2),
       ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, :c3);
INSERT INTO alert_indicators (alert_id, value_key, type, value, version, seen_at)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, decode(md5('phone' || (:shared)::text) || md5('phone:' || (:shared)::text), 'hex'), 'phone', '+38164' || (1000000 + :shared)::text, 1, now()),
       ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, decode(md5('plate' || (:shared)::text) || md5('plate:' || (:shared)::text), 'hex'), 'vehicle_plate', 'SU' || (100 + :shared)::text || 'AB', 1, now()),
       ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, decode(md5('iban') || md5('iban:'), 'hex'), 'iban', 'RS35260005601001611379', 1, now());
INSERT INTO alert_search (alert_id, title, body)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 'smuggling group moving people from presevo towards subotica',
        'a network calling itself the northern route is gathering about 40 people near presevo for transport towards subotica and the horgos roszke crossing refrigerated truck with serbian plates the group is expected to move within 48 hours the vehicles change plates at the last rest stop before the border kelebija tompa');
INSERT INTO correlation_pending (alert_id, version, queued_at) VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 1, now());
INSERT INTO events (id, type, alert_id, alert_version, payload, created_at, trace_parent, counterpart_alert_id)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'e'), 18))::uuid, 'alert.published',
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 1, CAST('null' AS json), now(), NULL, NULL);
INSERT INTO deliveries (id, event_id, subscription_id, agency_id, alert_id, state, attempts, next_attempt_at, created_at, updated_at)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'd1'), 18))::uuid,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'e'), 18))::uuid, :s1, :p1,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 'pending', 0, now(), now(), now()),
       ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'd2'), 18))::uuid,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'e'), 18))::uuid, :s2, :p2,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 'pending', 0, now(), now(), now()),
       ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'd3'), 18))::uuid,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'e'), 18))::uuid, :s3, :p3,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid, 'pending', 0, now(), now(), now());
DELETE FROM deliveries WHERE id IN (
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'd1'), 18))::uuid,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'd2'), 18))::uuid,
        (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'd3'), 18))::uuid)
    AND subscription_id IN (SELECT id FROM subscriptions WHERE event_types <> '' AND (' ' || event_types || ' ') NOT LIKE '% alert.published %');
INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail)
VALUES ((lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text || 'a'), 18))::uuid, now(), :agency, :prefix,
        'alert.submit', 'alert', (lpad(to_hex((extract(epoch FROM now()) * 1000000)::bigint), 14, '0') || left(md5(:aid::text), 18))::uuid,
        201, NULL, '127.0.0.1', NULL);
\endpipeline
COMMIT;
