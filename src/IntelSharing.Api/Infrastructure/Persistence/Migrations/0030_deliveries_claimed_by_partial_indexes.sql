-- The claim reads only what it may take (ADR 45): deliveries that are due (pending or failed) in the order they fell
-- due, and leases in the order they end. Each is a partial index holding only those rows, so delivered history adds
-- nothing to either. ix_deliveries_due held every state, and the claim planned on it read and sorted the whole backlog.
CREATE INDEX ix_deliveries_claimable ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed');
CREATE INDEX ix_deliveries_leased ON deliveries (lease_until) WHERE state = 'in_flight';
DROP INDEX ix_deliveries_due;
