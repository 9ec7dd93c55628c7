-- Partner health's last failed attempt of each subscription (Features/Subscriptions/ListPartnerHealth.cs): the first
-- entry of its range here, instead of a backward walk over the subscription's attempts of the day until one failed —
-- every one of them for a partner that has not failed all day, so the cost of a view grew with the partner's traffic.
-- Partial: only failed attempts are in it (its condition is the page's, ListPartnerHealth.SucceededSql), so a
-- successful attempt writes nothing more.
CREATE INDEX ix_delivery_attempts_failed ON delivery_attempts (subscription_id, started_at)
WHERE NOT (status_code BETWEEN 200 AND 299 AND error IS NULL);
