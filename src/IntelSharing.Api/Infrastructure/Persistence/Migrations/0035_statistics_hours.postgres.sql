-- Published results (Features/Statistics, ADR 51): today's closed UTC hours are rolled up as closed days are (ADR 40),
-- so a report counts live only the current hour and the hours changed since their roll-up, not the whole of today
-- (33,000 deliveries a day at the console benchmark's size: 108 ms a view by evening, growing through the day).
-- statistics_hourly: the counts of one hour, the rows of statistics_daily keyed by hour ('YYYY-MM-DDTHH', UTC); only
-- the hours of a day not rolled up yet are kept — the day's roll-up deletes them.
CREATE TABLE statistics_hourly (
    hour TEXT NOT NULL,
    section TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_agency_id uuid NULL,
    category TEXT NOT NULL,
    country TEXT NOT NULL,
    agency_id uuid NULL,
    first bigint NOT NULL,
    second bigint NOT NULL
);
CREATE INDEX ix_statistics_hourly_hour ON statistics_hourly (hour, section);
-- The hours rolled up; an hour's roll-up takes its row first, and a day's roll-up takes the rows of all its hours, so
-- no hour is rolled up while its day is, nor by two instances at once.
CREATE TABLE statistics_hours (
    hour TEXT PRIMARY KEY,
    rolled_at timestamptz NOT NULL
);
-- Stale marks by hour instead of by day: a day is stale when one of its hours is; the triggers of migration 29 now
-- mark the hour, still one mark (an index probe when it exists) per change. statistics_stale_days stays, kept in step
-- for the previous release (ADR 43: an image rolled back must still count late changes): a new hour mark adds its
-- day's mark, which only a day's roll-up removes.
CREATE TABLE statistics_stale_hours (
    hour TEXT PRIMARY KEY
);
INSERT INTO statistics_stale_hours (hour) SELECT day || 'T00' FROM statistics_stale_days;

CREATE OR REPLACE FUNCTION intelsharing_statistics_day_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO statistics_stale_hours (hour) VALUES (to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION intelsharing_statistics_alerts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO statistics_stale_hours (hour)
    SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') FROM added ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE FUNCTION intelsharing_statistics_hour_marked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO statistics_stale_days (day) VALUES (substr(NEW.hour, 1, 10)) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER statistics_stale_hours_day
    AFTER INSERT ON statistics_stale_hours FOR EACH ROW
    EXECUTE FUNCTION intelsharing_statistics_hour_marked();
