-- A user's authenticator app (RFC 6238 TOTP). The shared secret is sealed with the master
-- key's envelope, bound to its row (docs/adr/0002). confirmed_at NULL: enrolment started,
-- the first code not yet typed. last_step: the time step of the last accepted code, so a
-- code is never accepted twice (RFC 6238 §5.2).
CREATE TABLE user_totp (
  pool_id      text NOT NULL,
  user_id      uuid NOT NULL,
  secret_enc   text NOT NULL,
  confirmed_at timestamptz,
  last_step    bigint NOT NULL DEFAULT 0,
  -- Wrong codes since the last right one: a right password does not reset it (docs/adr/0307).
  failures     integer NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, user_id),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

-- Recovery codes: ten single-use codes shown once, stored as keyed hashes (HMAC-SHA-256
-- under a key derived from the master key, bound to pool and user), each usable once.
CREATE TABLE user_recovery_codes (
  pool_id    text NOT NULL,
  user_id    uuid NOT NULL,
  code_hash  text NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, user_id, code_hash),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);
