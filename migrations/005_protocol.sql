-- Protocol settings of applications (ADRs 0600, 0601).
-- dpop_bound_access_tokens: RFC 9449 §5.2 client metadata; every access token of the
--   client must be DPoP-bound.
-- resources: the resource servers (RFC 8707 indicators) the client may ask tokens for,
--   each with the scopes it may be granted there: [{"uri": "...", "scopes": ["..."]}].
--   See docs/adr/0600-resource-servers.md.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN resources jsonb NOT NULL DEFAULT '[]';
