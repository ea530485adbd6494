-- ADR 0706: the provider's artifacts (tokens, sessions, grants …) no longer carry a
-- foreign key to pools. The key cost every stored token a lookup and a row lock on the pool
-- (in PostgreSQL, ≈ a fifth of a token's insert); the pool service now removes a pool's
-- artifacts itself, when the pool is deleted and again when a pool with that id is created.
ALTER TABLE oidc_artifacts DROP CONSTRAINT IF EXISTS oidc_artifacts_pool_id_fkey;
