-- The W3C traceparent of whatever queued the event (the submitting request, the revocation, the feedback), so that
-- every delivery of it, retries and replays included, continues that trace and sends it to the partner (issue 11, 1).
ALTER TABLE events ADD COLUMN trace_parent TEXT NULL;
