-- A stored STIX rendering is about 20 KB of JSON per alert version, written at intake (docs/decisions/0036); PostgreSQL
-- compresses it out of line. lz4 costs a fraction of the CPU of the default pglz for a similar size here. A server
-- built without lz4 keeps pglz: the rendering is the same either way, only the intake's CPU differs.
DO $$
BEGIN
    ALTER TABLE stix_renderings ALTER COLUMN objects SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available in this server; stix_renderings keeps the default compression';
END
$$;
