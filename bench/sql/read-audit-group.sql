-- One commit group of read audit records (AuditRecordCommits, ADR 17): the records of :group concurrent reads in one
-- transaction and one commit. Mixed with read-alert.sql (pgbench -f read-alert.sql@1000 -f read-audit-group.sql@N, N =
-- 1000 ÷ :group), so that each read carries its share of a group, as in the API, where :group is measured.
-- The API sends the rows as one INSERT … SELECT FROM unnest(arrays); generate_series writes the same rows. They go in
-- unsealed; read-audit-seal.sql is the sealer linking them into the chain.
BEGIN;
INSERT INTO audit_records (id, recorded_at, agency_id, key_prefix, action, resource_type, resource_id, outcome, purpose, client_ip, detail)
SELECT CAST(lpad(to_hex(CAST(extract(epoch FROM clock_timestamp()) * 1000000 AS bigint)), 14, '0') || left(md5(random()::text), 18) AS uuid), now(),
       CAST(:reader AS uuid), :prefix, 'alert.read', 'alert', CAST(:alert AS uuid), 200, NULL, '127.0.0.1', NULL
FROM generate_series(1, CAST(:group AS int));
COMMIT;
