-- Partner health (Features/Subscriptions/ListPartnerHealth.cs) reads one index range per subscription over the last day's
-- attempts instead of joining every attempt to its delivery: each attempt carries its subscription and whether the
-- delivery gave up at it (dead), written by the outcome recorder with the attempt (ADR 40). Existing rows are filled in
-- from their deliveries; an attempt that ended a delivery now dead counts as the one that gave up, as before.
-- (SQLite cannot add a NOT NULL column without a default: subscription_id stays nullable here; the recorder always sets it.)
ALTER TABLE delivery_attempts ADD COLUMN subscription_id TEXT NULL;
ALTER TABLE delivery_attempts ADD COLUMN gave_up INTEGER NOT NULL DEFAULT 0;
UPDATE delivery_attempts SET
    subscription_id = (SELECT d.subscription_id FROM deliveries d WHERE d.id = delivery_attempts.delivery_id),
    gave_up = (SELECT CASE WHEN d.state = 'dead' AND d.attempts = delivery_attempts.attempt THEN 1 ELSE 0 END
               FROM deliveries d WHERE d.id = delivery_attempts.delivery_id);
CREATE INDEX ix_delivery_attempts_subscription ON delivery_attempts (subscription_id, started_at);
-- Only partner health read attempts by start time alone; the index above serves it, one fewer index to write per attempt.
DROP INDEX ix_delivery_attempts_started;

