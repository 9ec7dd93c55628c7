-- L_db: the minimal durable write of one alert on PostgreSQL, run by pgbench with -M prepared — one transaction
-- per alert holding the alert row with its JSON document and one delivery row per matching subscription (three),
-- into the primary-key-only tables of limit-schema.sql. One statement: one round trip, one commit, one WAL flush
-- (or a share of one, when concurrent commits are flushed together), which is the least any service that
-- acknowledges only after its commit can do.
-- Variables from IntelSharing.Bench (pgbench -D): doc (a stored alert document of median size), s1..s3 (the three
-- subscriptions). Ids are time-ordered like the service's UUIDv7s (microseconds, then random bits), so the primary
-- keys grow at their right edge as the service's do.
WITH alert AS (
    INSERT INTO limit_alerts (id, doc)
    VALUES ((lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || left(md5(random()::text), 18))::uuid,
            CAST(:doc AS json))
    RETURNING id)
INSERT INTO limit_deliveries (id, alert_id, subscription_id, state, next_attempt_at)
SELECT (lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0') || left(md5(random()::text), 18))::uuid,
       alert.id, s.id, 'pending', now()
FROM alert, (VALUES (CAST(:s1 AS uuid)), (CAST(:s2 AS uuid)), (CAST(:s3 AS uuid))) AS s (id);
