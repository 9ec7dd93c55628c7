-- TAXII object by id and match[id] without reading the collection (docs/decisions/0028). STIX ids are UUIDv5 of the
-- alert id and the object's role (StixIds), which cannot be turned back into the alert id, so each published version
-- records the UUIDs of its objects here, in the batch that stores the version. Rows are only added: an id a later
-- version no longer carries stays, and the read checks the alert's objects as it builds them, so a stale row costs a
-- look but never serves an object. Objects every alert carries (TLP:CLEAR, IntelSharing's identity and extension
-- definitions) are not recorded: any alert the caller may see has them.
CREATE TABLE stix_object_alerts (
    object_key {uuid} NOT NULL,          -- the UUID part of the STIX id (type--uuid)
    alert_id {uuid} NOT NULL,
    PRIMARY KEY (object_key, alert_id)
);

-- Alerts stored before this migration: the application indexes them at start and removes them from here.
CREATE TABLE stix_index_backlog (
    alert_id {uuid} PRIMARY KEY
);
INSERT INTO stix_index_backlog (alert_id) SELECT id FROM alerts;

-- A feed entry meant for one agency only (alert.withdrawn: the agency was dropped from the alert's audience). NULL for
-- every other entry, whose readers are decided by the sharing policy when the feed is read.
ALTER TABLE feed_changes ADD COLUMN recipient_id {uuid} NULL;
