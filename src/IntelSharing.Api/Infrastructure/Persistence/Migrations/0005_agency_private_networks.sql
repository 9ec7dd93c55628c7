-- Internal networks (CIDR ranges, space-separated, canonical order) an operator allowed one agency's webhooks to reach.
-- Empty: the agency reaches public addresses only. Replaces the deployment-wide Delivery__AllowedPrivateNetworks in production.
ALTER TABLE agencies ADD COLUMN allowed_private_networks TEXT NOT NULL DEFAULT '';
