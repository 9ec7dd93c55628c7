-- Agencies, their API keys, alerts with their versions, and idempotency records.
CREATE TABLE agencies (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    country TEXT NOT NULL,
    kind TEXT NOT NULL,
    is_active {bool} NOT NULL,
    created_at {timestamp} NOT NULL,
    updated_at {timestamp} NOT NULL
);
CREATE UNIQUE INDEX ux_agencies_name ON agencies (name);

CREATE TABLE api_keys (
    id {uuid} PRIMARY KEY,
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    prefix TEXT NOT NULL,
    secret_hash {bytes} NOT NULL,
    scopes TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at {timestamp} NOT NULL,
    expires_at {timestamp} NULL,
    revoked_at {timestamp} NULL,
    last_used_at {timestamp} NULL
);
CREATE UNIQUE INDEX ux_api_keys_prefix ON api_keys (prefix);
CREATE INDEX ix_api_keys_agency ON api_keys (agency_id);

-- The current version of each alert, with the columns that reads filter on and the full representation.
CREATE TABLE alerts (
    id {uuid} PRIMARY KEY,
    originator_id {uuid} NOT NULL REFERENCES agencies (id),
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    tlp TEXT NOT NULL,
    handling_code TEXT NOT NULL,
    has_audience {bool} NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at {timestamp} NOT NULL,
    updated_at {timestamp} NOT NULL,
    review_at {timestamp} NULL,
    expires_at {timestamp} NULL,
    document {json} NOT NULL
);
CREATE INDEX ix_alerts_updated ON alerts (updated_at, id);
CREATE INDEX ix_alerts_originator ON alerts (originator_id, updated_at, id);

-- Every published version, immutable: what was shared, as it was shared.
CREATE TABLE alert_versions (
    alert_id {uuid} NOT NULL REFERENCES alerts (id),
    version INTEGER NOT NULL,
    created_at {timestamp} NOT NULL,
    document {json} NOT NULL,
    PRIMARY KEY (alert_id, version)
);

CREATE TABLE alert_countries (
    alert_id {uuid} NOT NULL REFERENCES alerts (id),
    country TEXT NOT NULL,
    PRIMARY KEY (alert_id, country)
);
CREATE INDEX ix_alert_countries_country ON alert_countries (country, alert_id);

-- The audience of the current version, resolved to agencies when the version is published.
CREATE TABLE alert_audience (
    alert_id {uuid} NOT NULL REFERENCES alerts (id),
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    PRIMARY KEY (alert_id, agency_id)
);
CREATE INDEX ix_alert_audience_agency ON alert_audience (agency_id, alert_id);

CREATE TABLE idempotency_keys (
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    idempotency_key TEXT NOT NULL,
    request_hash {bytes} NOT NULL,
    alert_id {uuid} NULL,
    created_at {timestamp} NOT NULL,
    PRIMARY KEY (agency_id, idempotency_key)
);

-- Keys this deployment generates for itself and shares across its instances (e.g. the cursor HMAC key).
-- They protect integrity, not confidentiality; confidential material is never stored here.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value {bytes} NOT NULL,
    created_at {timestamp} NOT NULL
);
