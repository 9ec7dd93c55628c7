-- Published results (Features/Statistics, ADR 51): today's closed UTC hours are rolled up as closed days are (ADR 40),
-- so a report counts live only the current hour and the hours changed since their roll-up, not the whole of today.
-- statistics_hourly: the counts of one hour, the rows of statistics_daily keyed by hour ('YYYY-MM-DDTHH', UTC); only
-- the hours of a day not rolled up yet are kept — the day's roll-up deletes them.
CREATE TABLE statistics_hourly (
    hour TEXT NOT NULL,
    section TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_agency_id TEXT NULL,
    category TEXT NOT NULL,
    country TEXT NOT NULL,
    agency_id TEXT NULL,
    first INTEGER NOT NULL,
    second INTEGER NOT NULL
);
CREATE INDEX ix_statistics_hourly_hour ON statistics_hourly (hour, section);
-- The hours rolled up; an hour's roll-up takes its row first, and a day's roll-up takes the rows of all its hours.
CREATE TABLE statistics_hours (
    hour TEXT PRIMARY KEY,
    rolled_at TEXT NOT NULL
);
-- Stale marks by hour instead of by day: a day is stale when one of its hours is; the triggers of migration 29 now
-- mark the hour, still one mark (an index probe when it exists) per change. statistics_stale_days stays, kept in step
-- for the previous release (ADR 43: an image rolled back must still count late changes): a new hour mark adds its
-- day's mark, which only a day's roll-up removes.
CREATE TABLE statistics_stale_hours (
    hour TEXT PRIMARY KEY
);
INSERT INTO statistics_stale_hours (hour) SELECT day || 'T00' FROM statistics_stale_days;

DROP TRIGGER deliveries_statistics_state;
DROP TRIGGER alerts_statistics_added;
DROP TRIGGER alerts_statistics_changed;
DROP TRIGGER alert_feedback_statistics_added;

CREATE TRIGGER deliveries_statistics_state AFTER UPDATE OF state ON deliveries
WHEN OLD.state <> NEW.state AND (OLD.state IN ('delivered', 'failed', 'dead') OR NEW.state IN ('delivered', 'failed', 'dead'))
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
END;

CREATE TRIGGER alerts_statistics_added AFTER INSERT ON alerts
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
END;

CREATE TRIGGER alerts_statistics_changed AFTER UPDATE ON alerts
WHEN OLD.version IS NOT NEW.version OR OLD.tlp IS NOT NEW.tlp OR OLD.has_audience IS NOT NEW.has_audience OR OLD.category IS NOT NEW.category
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
END;

CREATE TRIGGER alert_feedback_statistics_added AFTER INSERT ON alert_feedback
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
END;

CREATE TRIGGER statistics_stale_hours_day AFTER INSERT ON statistics_stale_hours
BEGIN
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.hour, 1, 10));
END;
