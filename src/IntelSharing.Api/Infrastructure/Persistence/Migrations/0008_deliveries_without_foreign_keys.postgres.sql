-- The outbox's hottest insert: three rows per alert, each checked against three parents. The parents are never
-- deleted (events and subscriptions end by state, agencies by is_active) and each delivery is written in the same
-- transaction as its event, from rows read in that transaction, so the checks guard nothing the code can break.
-- What they cost is real: each check locks its parent row FOR KEY SHARE, and every concurrent submission locks
-- the same few subscription and agency rows, which PostgreSQL records as multixacts. ADR 0015.
-- SQLite keeps its constraints: one writer at a time, no shared row locks, and dropping one means rebuilding the table.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_subscription_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_agency_id_fkey;
