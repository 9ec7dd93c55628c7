-- The STIX objects of each alert's current version, rendered once when the version is written (docs/decisions/0036):
-- a TAXII page or object by id reads them as stored instead of mapping the alert document again on every read.
-- One row per alert, replaced by each new version; a row whose version or mapping differs from the alert's is not
-- used (the read renders from the document then), so a stale row can never serve an object. TEXT, not JSON: the
-- API wrote it and only the API reads it, so the database has nothing to check. Alerts stored before this migration,
-- revoked and expired versions have no row and are rendered at read time, as before.
CREATE TABLE stix_renderings (
    alert_id {uuid} PRIMARY KEY,
    version INTEGER NOT NULL,
    mapping INTEGER NOT NULL,            -- StixRendering.Mapping when written: a changed mapping ignores old rows
    objects TEXT NOT NULL                -- a JSON array of the version's objects, persons included
);
