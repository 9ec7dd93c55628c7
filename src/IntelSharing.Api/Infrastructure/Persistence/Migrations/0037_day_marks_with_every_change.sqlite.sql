-- Stale marks for the previous release written with every change, not only with a new hour mark (migration 35 added
-- a day's mark only when its hour's mark was new). Rolled back, the previous release clears a day's mark when it rolls
-- the day up and leaves the hour marks; a later change to an hour still marked then added no day mark, and the
-- previous release would have counted that day from its stale roll-up (ADR 43, ADR 51).
DROP TRIGGER statistics_stale_hours_day;
DROP TRIGGER deliveries_statistics_state;
DROP TRIGGER alerts_statistics_added;
DROP TRIGGER alerts_statistics_changed;
DROP TRIGGER alert_feedback_statistics_added;

CREATE TRIGGER deliveries_statistics_state AFTER UPDATE OF state ON deliveries
WHEN OLD.state <> NEW.state AND (OLD.state IN ('delivered', 'failed', 'dead') OR NEW.state IN ('delivered', 'failed', 'dead'))
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER alerts_statistics_added AFTER INSERT ON alerts
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER alerts_statistics_changed AFTER UPDATE ON alerts
WHEN OLD.version IS NOT NEW.version OR OLD.tlp IS NOT NEW.tlp OR OLD.has_audience IS NOT NEW.has_audience OR OLD.category IS NOT NEW.category
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER alert_feedback_statistics_added AFTER INSERT ON alert_feedback
BEGIN
    INSERT OR IGNORE INTO statistics_stale_hours (hour) VALUES (substr(NEW.created_at, 1, 13));
    INSERT OR IGNORE INTO statistics_stale_days (day) VALUES (substr(NEW.created_at, 1, 10));
END;
