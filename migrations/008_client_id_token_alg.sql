-- The algorithm an application's ID tokens are signed with (OIDC Dynamic Client Registration
-- §2, id_token_signed_response_alg). NULL: the provider's default, RS256.
ALTER TABLE clients ADD COLUMN id_token_signed_response_alg text;
