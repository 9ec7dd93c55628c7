-- A partner at its concurrency limit keeps its due deliveries (it is sending them), and one that answers slowly but
-- successfully can fall behind: its backlog is then the oldest due, and a claim that read due rows in due order and
-- skipped those of partners at a limit walked all of it first, on every claim (6,032 rows read to take 32 with 6,000
-- waiting). While someone is at a limit, a claim now reads at most a short walk of the head and, if that leaves it
-- short, the first due rows of each subscription it may take from, from this index (ADR 49): what it reads is bounded
-- by the walk and the subscriptions, not by anyone's backlog. Held rows
-- are in it too, so that a claim's per-subscription read cannot be answered from ix_deliveries_sendable instead (the
-- claim filters them with "held IS NOT TRUE", which that index's "NOT held" cannot be proven from).
-- IF NOT EXISTS: on a long queue an operator may build it CONCURRENTLY first (docs/operations.md).
CREATE INDEX IF NOT EXISTS ix_deliveries_waiting_by_subscription ON deliveries (subscription_id, next_attempt_at) WHERE state IN ('pending', 'failed');
