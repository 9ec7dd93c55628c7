-- L_read: the one primary-key SELECT a read needs — the document by id — on the minimal table of limit-schema.sql,
-- run by pgbench with -M prepared. The benchmark fills :rows documents of median size under the ids
-- 00000000-0000-0000-0000-000000000001 … (the number in hex), and each read picks one at random.
\set n random(1, :rows)
SELECT doc FROM limit_alerts WHERE id = CAST(lpad(to_hex(CAST(:n AS bigint)), 32, '0') AS uuid);
