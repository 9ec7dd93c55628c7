-- What each agency has been told about one of its alerts, one row per (its alert, counterpart alert, kind), holding the
-- keys of every value it was told of, 32 bytes each, concatenated (ADR 35). It replaces one row per value in
-- correlation_notices (migration 14): two alerts that share four values are one row and three index entries fewer. The
-- worker still reads correlation_notices, whose rows were written before this migration, and no longer writes to it.
CREATE TABLE correlation_told (
    alert_id {uuid} NOT NULL,
    counterpart_alert_id {uuid} NOT NULL,
    kind TEXT NOT NULL,
    value_keys {bytes} NOT NULL,
    notified_at {timestamp} NOT NULL,
    PRIMARY KEY (alert_id, counterpart_alert_id, kind)
);
CREATE INDEX ix_correlation_told_counterpart ON correlation_told (counterpart_alert_id);
