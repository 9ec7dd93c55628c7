-- Partner health's 24 clock hours (Features/Subscriptions/ListPartnerHealth.cs, ADR 50): the attempts of each
-- subscription counted per UTC clock hour, added to by the outcome recorder in the transaction that records the
-- attempts, so the page reads 24 rows a subscription instead of aggregating the day's attempts (33,000 a day at the
-- console benchmark's size, 47 ms). hour is 'YYYY-MM-DDTHH' of started_at in UTC, as the page writes it. Succeeded is
-- partner health's rule: a 2xx status and no error; dead, the attempt at which the delivery gave up. Every stored
-- attempt is counted once here.
CREATE TABLE attempt_hours (
    subscription_id uuid NOT NULL,
    hour TEXT NOT NULL,
    delivered bigint NOT NULL,
    failed bigint NOT NULL,
    dead bigint NOT NULL,
    duration_ms_sum bigint NOT NULL,
    duration_ms_max integer NOT NULL,
    PRIMARY KEY (subscription_id, hour)
);
INSERT INTO attempt_hours (subscription_id, hour, delivered, failed, dead, duration_ms_sum, duration_ms_max)
SELECT subscription_id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24'),
       SUM(CASE WHEN status_code BETWEEN 200 AND 299 AND error IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN status_code BETWEEN 200 AND 299 AND error IS NULL THEN 0 ELSE 1 END),
       SUM(CASE WHEN gave_up THEN 1 ELSE 0 END),
       SUM(duration_ms), MAX(duration_ms)
FROM delivery_attempts
WHERE subscription_id IS NOT NULL
GROUP BY subscription_id, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24');
