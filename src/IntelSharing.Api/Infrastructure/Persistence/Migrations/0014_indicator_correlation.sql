-- Indicator search and cross-agency correlation (docs/decisions/0020).

-- The normalised indicators of every active alert's current version, written in the transaction that publishes the
-- version and deleted when the alert is revoked or expires. value_key is SHA-256 of "type:value": lookups go through
-- a fixed-size index whatever the value's length (a URL may be kilobytes, past PostgreSQL's B-tree entry limit).
CREATE TABLE alert_indicators (
    alert_id {uuid} NOT NULL REFERENCES alerts (id),
    value_key {bytes} NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,            -- the latest version that carries it; older rows are removed with each version
    seen_at {timestamp} NOT NULL,        -- since when the alert has carried it without a break
    PRIMARY KEY (alert_id, value_key)
);
CREATE INDEX ix_alert_indicators_value ON alert_indicators (value_key, alert_id);

-- Versions whose indicators the correlation worker has still to match (written with the version, removed by the worker).
CREATE TABLE correlation_pending (
    alert_id {uuid} PRIMARY KEY REFERENCES alerts (id),
    version INTEGER NOT NULL,
    queued_at {timestamp} NOT NULL
);

-- What each agency has been told about one of its alerts (kind alert.correlated or alert.correlation_hidden), per
-- counterpart alert and indicator, so that a new version or a share tells only what is new.
CREATE TABLE correlation_notices (
    alert_id {uuid} NOT NULL,
    counterpart_alert_id {uuid} NOT NULL,
    value_key {bytes} NOT NULL,
    kind TEXT NOT NULL,
    notified_at {timestamp} NOT NULL,
    PRIMARY KEY (alert_id, counterpart_alert_id, value_key, kind)
);
CREATE INDEX ix_correlation_notices_counterpart ON correlation_notices (counterpart_alert_id);

-- Correlation events are about the receiving agency's own alert (alert_id) and one other alert: the send-time
-- decision checks that the two still share an indicator and, for alert.correlated, that the other is still visible.
ALTER TABLE events ADD COLUMN counterpart_alert_id {uuid} NULL;
