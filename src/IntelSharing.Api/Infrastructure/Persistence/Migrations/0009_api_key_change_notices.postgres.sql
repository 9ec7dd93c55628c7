-- Every API instance caches key lookups (Infrastructure/Security/ApiKeyLookup.cs, docs/decisions/0014). A change
-- that can turn a key's answer from "yes" to "no" -- revocation, expiry, scopes, the secret, the agency's active flag
-- or name -- NOTIFYs the channel every instance LISTENs on. pg_notify is transactional: the notice goes out when the
-- writing transaction commits and never if it rolls back. A trigger rather than a call in each handler, so that no
-- writer can forget it: not a future endpoint, not bootstrap-admin, not an operator's hand-written UPDATE.
-- Identical notices in one transaction are folded into one by PostgreSQL, so a bulk UPDATE sends one per table.
-- last_used_at (written every few seconds by ApiKeyUsage) and allowed_private_networks do not notify.

CREATE FUNCTION intelsharing_announce_api_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('intelsharing_api_keys', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;

CREATE TRIGGER api_keys_announce_change
    AFTER UPDATE ON api_keys FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
       OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
       OR OLD.scopes IS DISTINCT FROM NEW.scopes
       OR OLD.secret_hash IS DISTINCT FROM NEW.secret_hash
       OR OLD.prefix IS DISTINCT FROM NEW.prefix
       OR OLD.agency_id IS DISTINCT FROM NEW.agency_id)
    EXECUTE FUNCTION intelsharing_announce_api_key_change();

CREATE TRIGGER api_keys_announce_removal
    AFTER DELETE ON api_keys FOR EACH ROW
    EXECUTE FUNCTION intelsharing_announce_api_key_change();

CREATE TRIGGER agencies_announce_change
    AFTER UPDATE ON agencies FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active OR OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION intelsharing_announce_api_key_change();

CREATE TRIGGER agencies_announce_removal
    AFTER DELETE ON agencies FOR EACH ROW
    EXECUTE FUNCTION intelsharing_announce_api_key_change();
