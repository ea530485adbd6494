-- Passkeys (WebAuthn credentials) and their ceremonies' challenges, per pool.
-- A credential id is unique per pool (not globally): the same authenticator may hold
-- credentials for several pools on one host, and each pool only ever sees its own.
-- Deleting a user deletes their passkeys (composite foreign key, ON DELETE CASCADE).

CREATE TABLE passkeys (
  pool_id        text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id             uuid NOT NULL,
  user_id        uuid NOT NULL,
  -- base64url, as WebAuthn's JSON serialisation carries it
  credential_id  text NOT NULL,
  -- COSE public key, base64url
  public_key     text NOT NULL,
  -- signature counter (uint32); an assertion whose counter does not grow is refused
  counter        bigint NOT NULL DEFAULT 0,
  transports     jsonb NOT NULL DEFAULT '[]',
  -- WebAuthn §6.1 flags: BE is fixed for the credential's life, BS may change
  backup_eligible boolean NOT NULL,
  backed_up      boolean NOT NULL,
  aaguid         text NOT NULL,
  name           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  last_used_at   timestamptz,
  PRIMARY KEY (pool_id, id),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX passkeys_credential ON passkeys (pool_id, credential_id);
CREATE INDEX passkeys_user ON passkeys (pool_id, user_id);

-- Server-side challenges: single-use (deleted when used), short-lived (expires_at).
-- purpose says which ceremony it belongs to; user_id and interaction_uid bind it to
-- the user being enrolled or the sign-in interaction that asked for it.
CREATE TABLE webauthn_challenges (
  pool_id         text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  challenge       text NOT NULL,
  purpose         text NOT NULL CHECK (purpose IN ('registration', 'authentication')),
  user_id         uuid,
  interaction_uid text,
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, challenge)
);
CREATE INDEX webauthn_challenges_expiry ON webauthn_challenges (pool_id, expires_at);
