-- The algorithm an application's ID tokens are signed with (OIDC Dynamic Client Registration
-- §2, id_token_signed_response_alg). NULL: the provider's default, RS256.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text;
-- Seconds after a refresh token's first use during which a reuse gets another refresh token
-- of the same grant instead of revoking it (docs/adr/0604). 0: strict reuse detection.
ALTER TABLE clients ADD COLUMN refresh_token_reuse_grace_seconds integer NOT NULL DEFAULT 0;
