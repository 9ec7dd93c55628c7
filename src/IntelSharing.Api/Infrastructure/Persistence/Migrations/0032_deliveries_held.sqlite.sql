-- Deliveries no claim may take are held out of the claim's index (ADR 48). A paused subscription's queue, and a
-- deactivated agency's notices, wait for days, and they are the oldest rows due: read in due order, every claim walked
-- all of them before reaching anything it could send (6,048 rows read to take 32 with 6,000 waiting for a paused
-- partner). DeliveryHolds marks such rows held and unmarks them when their subscription and agency are active again;
-- the claim reads ix_deliveries_sendable, which holds only due rows that are not held. held is a hint the claim also
-- checks against the subscriptions and agencies themselves: a row held by mistake waits a second, never a wrong send.
ALTER TABLE deliveries ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ix_deliveries_sendable ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failed') AND NOT held;
-- What to release when a subscription is resumed or an agency reactivated: its held rows, by subscription.
CREATE INDEX ix_deliveries_held ON deliveries (subscription_id) WHERE state IN ('pending', 'failed') AND held;
-- ix_deliveries_claimable stays for now: the previous release's claim names it (INDEXED BY), and without it would
-- fail after a rollback. A later release drops it (ADR 3).
