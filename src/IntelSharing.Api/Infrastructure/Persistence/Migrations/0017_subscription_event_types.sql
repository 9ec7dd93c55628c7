-- The event types a subscription wants, space-separated like categories; empty: all (issue 10, 4). Revocation and
-- expiry notices are not choosable: they always reach a subscription that was sent the alert.
ALTER TABLE subscriptions ADD COLUMN event_types TEXT NOT NULL DEFAULT '';
