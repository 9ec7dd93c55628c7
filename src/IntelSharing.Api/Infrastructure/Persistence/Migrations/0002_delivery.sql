-- Partner endpoints, the transactional outbox (events + one delivery per subscription), and every attempt.
CREATE TABLE subscriptions (
    id {uuid} PRIMARY KEY,
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    url TEXT NOT NULL,
    authority TEXT NOT NULL,             -- scheme://host[:port]: the key of the partner's resilience pipeline
    description TEXT NOT NULL,
    categories TEXT NOT NULL,            -- space-separated wire names; empty = every category
    min_severity_rank INTEGER NOT NULL,
    countries TEXT NOT NULL,             -- space-separated ISO codes; empty = every country
    include_own_alerts {bool} NOT NULL,
    status TEXT NOT NULL,                -- active | paused | disabled | deleted
    status_reason TEXT NULL,
    secret {bytes} NOT NULL,             -- AES-GCM ciphertext of the whsec_ secret
    previous_secret {bytes} NULL,        -- still signed with until previous_secret_expires_at
    previous_secret_expires_at {timestamp} NULL,
    created_at {timestamp} NOT NULL,
    updated_at {timestamp} NOT NULL
);
CREATE INDEX ix_subscriptions_agency ON subscriptions (agency_id, created_at, id);
CREATE INDEX ix_subscriptions_status ON subscriptions (status);

-- One row per event; the payload is serialised once and every attempt to every subscription sends these bytes.
CREATE TABLE events (
    id {uuid} PRIMARY KEY,
    type TEXT NOT NULL,
    alert_id {uuid} NULL REFERENCES alerts (id),
    alert_version INTEGER NULL,
    payload {json} NOT NULL,
    created_at {timestamp} NOT NULL
);
CREATE INDEX ix_events_alert ON events (alert_id);

-- One row per (event, subscription). The id is the webhook-id partners deduplicate on; replays keep it.
CREATE TABLE deliveries (
    id {uuid} PRIMARY KEY,
    event_id {uuid} NOT NULL REFERENCES events (id),
    subscription_id {uuid} NOT NULL REFERENCES subscriptions (id),
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    alert_id {uuid} NULL,
    state TEXT NOT NULL,                 -- pending | in_flight | delivered | failed | dead | cancelled
    attempts INTEGER NOT NULL,
    next_attempt_at {timestamp} NOT NULL,
    lease_until {timestamp} NULL,
    claim_token {uuid} NULL,
    last_status INTEGER NULL,
    last_error TEXT NULL,
    created_at {timestamp} NOT NULL,
    updated_at {timestamp} NOT NULL,
    delivered_at {timestamp} NULL
);
CREATE INDEX ix_deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX ix_deliveries_subscription ON deliveries (subscription_id, created_at, id);
CREATE INDEX ix_deliveries_alert ON deliveries (alert_id, created_at, id);
CREATE INDEX ix_deliveries_state_created ON deliveries (state, created_at, id);

CREATE TABLE delivery_attempts (
    delivery_id {uuid} NOT NULL REFERENCES deliveries (id),
    attempt INTEGER NOT NULL,
    started_at {timestamp} NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER NULL,
    error TEXT NULL,
    response_excerpt TEXT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
