-- Sharing groups (named sets of agencies an alert's audience may name) and the hash-chained audit trail.

CREATE TABLE sharing_groups (
    id {uuid} PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NULL,
    created_at {timestamp} NOT NULL,
    updated_at {timestamp} NOT NULL
);
CREATE UNIQUE INDEX ux_sharing_groups_name ON sharing_groups (name);

-- Current membership. An alert's audience is resolved from it when a version is published and fixed in
-- alert_audience, so later changes here never change who may see an already published version.
CREATE TABLE sharing_group_members (
    group_id {uuid} NOT NULL REFERENCES sharing_groups (id) ON DELETE CASCADE,
    agency_id {uuid} NOT NULL REFERENCES agencies (id),
    added_at {timestamp} NOT NULL,
    PRIMARY KEY (group_id, agency_id)
);
CREATE INDEX ix_sharing_group_members_agency ON sharing_group_members (agency_id, group_id);

-- Append-only. Requests insert rows with seq and hash NULL (cheap, no contention on the chain head); the
-- sealer alone sets seq and hash, once, in insertion order. hash = SHA-256(previous hash || canonical content).
CREATE TABLE audit_records (
    id {uuid} PRIMARY KEY,
    recorded_at {timestamp} NOT NULL,
    agency_id {uuid} NULL,
    key_prefix TEXT NULL,
    action TEXT NOT NULL,
    resource_type TEXT NULL,
    resource_id {uuid} NULL,
    outcome INTEGER NOT NULL,
    purpose TEXT NULL,
    client_ip TEXT NULL,
    detail TEXT NULL,
    seq {bigint} NULL,
    hash {bytes} NULL
);
CREATE UNIQUE INDEX ux_audit_records_seq ON audit_records (seq) WHERE seq IS NOT NULL;
CREATE INDEX ix_audit_records_unsealed ON audit_records (recorded_at, id) WHERE seq IS NULL;
CREATE INDEX ix_audit_records_time ON audit_records (recorded_at, id);
CREATE INDEX ix_audit_records_agency ON audit_records (agency_id, recorded_at, id);
CREATE INDEX ix_audit_records_resource ON audit_records (resource_id, recorded_at, id);

-- The last sealed link, written in the sealer's transaction: verification compares the chain's end with it,
-- so deleting the newest records is detected too, not only edits and gaps.
CREATE TABLE audit_chain_head (
    id INTEGER PRIMARY KEY,
    seq {bigint} NOT NULL,
    hash {bytes} NOT NULL,
    sealed_at {timestamp} NOT NULL
);
