-- Partner health counts the attempts of the last hour and day (Features/Subscriptions/ListPartnerHealth.cs): found by
-- their start time, not by walking every delivery a subscription ever had.
CREATE INDEX ix_delivery_attempts_started ON delivery_attempts (started_at);
