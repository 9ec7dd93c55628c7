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
-- Partner health's next retry per subscription: the first entry of its range here. Partial, so only deliveries waiting
-- for a retry are in it; a delivery's other states do not touch it.
CREATE INDEX ix_deliveries_waiting_retry ON deliveries (subscription_id, next_attempt_at) WHERE state = 'failed';

-- Published results (Features/Statistics, ADR 40): closed UTC days rolled up once by StatisticsRollup, so a report sums a
-- row per day and group instead of aggregating every alert, delivery and feedback of its range; the days not rolled
-- up (today, and any day changed since its roll-up) are aggregated live as before.
-- statistics_daily: the counts of one day. section alerts / alert_totals (per category and country / per category),
-- counted under the scope that decides who may count them: everyone (clear, green, amber without an audience),
-- originator (any other alert, under its originator) and audience (the same alerts, under each agency of their audience
-- other than the originator) — SharingPolicy.VisibleSql's cases; deliveries / feedback per receiving or answering
-- agency, under the alert's originator. first/second: alerts (count, 0), deliveries (delivered, failed or dead),
-- feedback (hits, actioned).
CREATE TABLE statistics_daily (
    day TEXT NOT NULL,
    section TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_agency_id {uuid} NULL,
    category TEXT NOT NULL,
    country TEXT NOT NULL,
    agency_id {uuid} NULL,
    first {bigint} NOT NULL,
    second {bigint} NOT NULL
);
CREATE INDEX ix_statistics_daily_day ON statistics_daily (day, section);
-- The days rolled up; a roll-up takes its day's row first, so two instances never roll the same day at once.
CREATE TABLE statistics_days (
    day TEXT PRIMARY KEY,
    rolled_at {timestamp} NOT NULL
);
-- Days whose counts changed since they were rolled up (or that were never rolled up), written by the triggers below in
-- the transaction of the change; a report aggregates them live until StatisticsRollup rolls them up again.
CREATE TABLE statistics_stale_days (
    day TEXT PRIMARY KEY
);
-- Today's part of a report is found by index, not by a scan of every alert and feedback.
CREATE INDEX ix_alerts_created ON alerts (created_at);
CREATE INDEX ix_alert_feedback_created ON alert_feedback (created_at);

-- What changes a day's counts marks the day stale: a delivery entering or leaving delivered/failed/dead (deliveries are
-- born pending, which no count includes, and only the outbox deletes them, before they leave pending), an alert
-- published (its day) or changing what decides who counts it (countries and audience change only with a new version,
-- AlertStore.AddVersion, so a version change covers them), and feedback given. An existing mark is ignored.
CREATE TRIGGER deliveries_statistics_state AFTER UPDATE OF state ON deliveries
WHEN OLD.state <> NEW.state AND (OLD.state IN ('delivered', 'failed', 'dead') OR NEW.state IN ('delivered', 'failed', 'dead'))
BEGIN
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER alerts_statistics_added AFTER INSERT ON alerts
BEGIN
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER alerts_statistics_changed AFTER UPDATE ON alerts
WHEN OLD.version IS NOT NEW.version OR OLD.tlp IS NOT NEW.tlp OR OLD.has_audience IS NOT NEW.has_audience OR OLD.category IS NOT NEW.category
BEGIN
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER alert_feedback_statistics_added AFTER INSERT ON alert_feedback
BEGIN
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;
