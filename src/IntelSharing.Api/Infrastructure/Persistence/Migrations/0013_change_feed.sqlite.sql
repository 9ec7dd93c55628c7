-- The change feed (GET /api/v1/feed, docs/decisions/0019); see 0013_change_feed.postgres.sql for the design. On SQLite
-- one writer at a time commits, so the sequencer (run inside a write transaction) is the single writer by construction;
-- the in-process signal wakes it, as there is no NOTIFY.
CREATE TABLE feed_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NULL,
    type TEXT NOT NULL,
    alert_id TEXT NOT NULL,
    alert_version INTEGER NOT NULL,
    feedback_id TEXT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX ux_feed_changes_position ON feed_changes (position) WHERE position IS NOT NULL;
CREATE INDEX ix_feed_changes_unpositioned ON feed_changes (id) WHERE position IS NULL;

CREATE TRIGGER alert_versions_record_change AFTER INSERT ON alert_versions
BEGIN
    INSERT INTO feed_changes (type, alert_id, alert_version, created_at)
    SELECT CASE WHEN NEW.version = 1 THEN 'alert.published'
                WHEN a.status = 'revoked' THEN 'alert.revoked'
                WHEN a.status = 'expired' THEN 'alert.expired'
                ELSE 'alert.updated' END,
           NEW.alert_id, NEW.version, NEW.created_at
    FROM alerts a WHERE a.id = NEW.alert_id;
END;

CREATE TRIGGER alert_feedback_record_change AFTER INSERT ON alert_feedback
BEGIN
    INSERT INTO feed_changes (type, alert_id, alert_version, feedback_id, created_at)
    VALUES ('alert.feedback', NEW.alert_id, NEW.alert_version, NEW.id, NEW.created_at);
END;
