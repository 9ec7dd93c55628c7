-- The audit sealer's round (AuditSealer): under the chain lock, the oldest 500 unsealed records get their seq and hash
-- by an UPDATE of each record, and the chain head moves. Mixed with read-alert.sql at 2 rounds per 1,000 reads.
BEGIN;
SELECT pg_advisory_xact_lock(1096107092);
WITH pending AS (
    SELECT id, row_number() OVER (ORDER BY recorded_at, id) AS n FROM audit_records
    WHERE seq IS NULL AND seal_refused IS NULL ORDER BY recorded_at, id LIMIT 500),
head AS (SELECT seq FROM audit_chain_head WHERE id = 1),
sealed AS (
    UPDATE audit_records r SET seq = head.seq + pending.n, hash = sha256(CAST(CAST(r.id AS text) AS bytea))
    FROM pending, head WHERE r.id = pending.id RETURNING r.seq)
UPDATE audit_chain_head SET seq = COALESCE((SELECT max(seq) FROM sealed), seq), sealed_at = now() WHERE id = 1;
COMMIT;
