-- The minimal tables the machine's limits are measured against (database bench_limits, created by IntelSharing.Bench):
-- what an alert must durably be at the least — its document, and one delivery row per matching subscription — with
-- a primary key and nothing else: no other index, no foreign key, no audit, no idempotency record. A limit that
-- does not move when the product's SQL does (issue 9): the product can approach it, never beat it.
CREATE TABLE IF NOT EXISTS limit_alerts (
    id uuid PRIMARY KEY,
    doc json NOT NULL
);

CREATE TABLE IF NOT EXISTS limit_deliveries (
    id uuid PRIMARY KEY,
    alert_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    state text NOT NULL,
    next_attempt_at timestamptz NULL
);
