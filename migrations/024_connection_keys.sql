-- The key a connection signs its client assertions with (private_key_jwt, docs/adr/0900):
-- a private JWK sealed with the master key and bound to the connection's row, made when the
-- connection first uses private_key_jwt. Its public half is in `settings` (publicJwk): the
-- upstream registers it, and the pool publishes it at /pools/{pool}/connections/jwks.
ALTER TABLE connections ADD COLUMN key_enc text;
