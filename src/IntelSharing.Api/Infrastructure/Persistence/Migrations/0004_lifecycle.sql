-- Recipients' answers about alerts, delivered back to the originator.
CREATE TABLE alert_feedback (
    id {uuid} PRIMARY KEY,
    alert_id {uuid} NOT NULL REFERENCES alerts (id),
    alert_version INTEGER NOT NULL,
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    kind TEXT NOT NULL,
    note TEXT NULL,
    created_at {timestamp} NOT NULL
);
CREATE INDEX ix_alert_feedback_alert ON alert_feedback (alert_id, created_at, id);

-- The expiry job looks for active alerts past expires_at.
CREATE INDEX ix_alerts_expiry ON alerts (status, expires_at);
