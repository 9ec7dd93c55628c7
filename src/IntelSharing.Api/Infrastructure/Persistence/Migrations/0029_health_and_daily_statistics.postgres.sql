-- Partner health (Features/Subscriptions/ListPartnerHealth.cs) reads one index range per subscription over the last day's
-- attempts instead of joining every attempt to its delivery: each attempt carries its subscription and whether the
-- delivery gave up at it (dead), written by the outcome recorder with the attempt (ADR 40). Existing rows are filled in
-- from their deliveries; an attempt that ended a delivery now dead counts as the one that gave up, as before.
ALTER TABLE delivery_attempts ADD COLUMN subscription_id uuid NULL, ADD COLUMN gave_up boolean NOT NULL DEFAULT FALSE;
UPDATE delivery_attempts da SET subscription_id = d.subscription_id, gave_up = (d.state = 'dead' AND da.attempt = d.attempts)
FROM deliveries d WHERE d.id = da.delivery_id;
ALTER TABLE delivery_attempts ALTER COLUMN subscription_id SET NOT NULL;
CREATE INDEX ix_delivery_attempts_subscription ON delivery_attempts (subscription_id, started_at);
-- Only partner health read attempts by start time alone; the index above serves it, one fewer index to write per attempt.
DROP INDEX ix_delivery_attempts_started;

