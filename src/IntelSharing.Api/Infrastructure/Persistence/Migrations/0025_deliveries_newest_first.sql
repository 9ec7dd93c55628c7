-- The delivery ledger newest first (GET /api/v1/deliveries, the console's overview): an operator's page walks every
-- delivery by (created_at, id), an agency's its own by (agency_id, created_at, id). Without these each page sorted
-- the whole table (bench --only console: 171 ms a page at 100,000 deliveries); with them it reads one page of rows.
CREATE INDEX ix_deliveries_created ON deliveries (created_at, id);
CREATE INDEX ix_deliveries_agency_created ON deliveries (agency_id, created_at, id);
