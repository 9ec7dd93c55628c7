-- TAXII 2.1 status resources (§4.3), one per add-objects request that stored an alert (Features/Taxii/AddTaxiiObjects.cs,
-- ADR 52). The id is derived from the agency and the envelope's hash, so a client that posts the same envelope again
-- gets the same status and creates nothing more. Readable only by the agency that posted it.
CREATE TABLE taxii_statuses (
    id {uuid} PRIMARY KEY,
    agency_id {uuid} NOT NULL,
    alert_id {uuid} NOT NULL,
    created_at {timestamp} NOT NULL,
    document TEXT NOT NULL
);
