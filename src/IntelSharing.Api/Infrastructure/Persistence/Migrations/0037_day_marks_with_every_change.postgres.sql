-- Stale marks for the previous release written with every change, not only with a new hour mark (migration 35 added
-- a day's mark only when its hour's mark was new). Rolled back, the previous release clears a day's mark when it rolls
-- the day up and leaves the hour marks; a later change to an hour still marked then added no day mark, and the
-- previous release would have counted that day from its stale roll-up (ADR 43, ADR 51). One more index probe per change.
DROP TRIGGER statistics_stale_hours_day ON statistics_stale_hours;
DROP FUNCTION intelsharing_statistics_hour_marked();

CREATE OR REPLACE FUNCTION intelsharing_statistics_day_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO statistics_stale_hours (hour) VALUES (to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24')) ON CONFLICT DO NOTHING;
    INSERT INTO statistics_stale_days (day) VALUES (to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')) ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION intelsharing_statistics_alerts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO statistics_stale_hours (hour)
    SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') FROM added ON CONFLICT DO NOTHING;
    INSERT INTO statistics_stale_days (day)
    SELECT DISTINCT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM added ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;
