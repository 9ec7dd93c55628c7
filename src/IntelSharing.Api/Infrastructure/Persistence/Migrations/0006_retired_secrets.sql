-- Secrets rotated out before the newest one (previous_secret), each with the end of its own overlap, as a JSON
-- array: a second rotation inside the overlap window must not drop the first secret at once (issue 8, 12b).
ALTER TABLE subscriptions ADD COLUMN older_secrets TEXT NULL;
