-- The change feed (GET /api/v1/feed, docs/decisions/0019). Writers add a row here, without a position, in their own
-- transaction, through the triggers below (so no writer can forget it: not a future endpoint, not the expiry job).
-- One sequencer at a time (a transaction-scoped advisory lock) gives committed rows their positions, in order, after
-- they commit; the feed serves positioned rows only, so a position handed out is never followed by a lower one.
-- Who may see a change is decided when it is read, against the alert's current audience: nothing here names a reader.
-- No foreign keys, as for deliveries (ADR 0015): rows are written from the parent row in the same transaction.
CREATE TABLE feed_changes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- insertion order: orders one sequencer round
    position bigint NULL,                                 -- commit-visible order, assigned by the sequencer
    type TEXT NOT NULL,                                   -- alert.published | alert.updated | alert.revoked | alert.expired | alert.feedback
    alert_id uuid NOT NULL,
    alert_version INTEGER NOT NULL,
    feedback_id uuid NULL,
    created_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX ux_feed_changes_position ON feed_changes (position) WHERE position IS NOT NULL;
CREATE INDEX ix_feed_changes_unpositioned ON feed_changes (id) WHERE position IS NULL;

-- pg_notify is transactional: the sequencers hear of a change when it commits, never if it rolls back; identical
-- notices in one transaction fold into one.
CREATE FUNCTION intelsharing_record_alert_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (type, alert_id, alert_version, created_at)
    SELECT CASE WHEN NEW.version = 1 THEN 'alert.published'
                WHEN a.status = 'revoked' THEN 'alert.revoked'
                WHEN a.status = 'expired' THEN 'alert.expired'
                ELSE 'alert.updated' END,
           NEW.alert_id, NEW.version, NEW.created_at
    FROM alerts a WHERE a.id = NEW.alert_id;
    PERFORM pg_notify('intelsharing_feed', 'written');
    RETURN NULL;
END;
$$;

CREATE TRIGGER alert_versions_record_change
    AFTER INSERT ON alert_versions FOR EACH ROW
    EXECUTE FUNCTION intelsharing_record_alert_version();

CREATE FUNCTION intelsharing_record_alert_feedback() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO feed_changes (type, alert_id, alert_version, feedback_id, created_at)
    VALUES ('alert.feedback', NEW.alert_id, NEW.alert_version, NEW.id, NEW.created_at);
    PERFORM pg_notify('intelsharing_feed', 'written');
    RETURN NULL;
END;
$$;

CREATE TRIGGER alert_feedback_record_change
    AFTER INSERT ON alert_feedback FOR EACH ROW
    EXECUTE FUNCTION intelsharing_record_alert_feedback();
