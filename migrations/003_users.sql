-- Users as identity pools know them (ADRs 0301, 0302): one-time codes (invitations, email
-- verification at registration, email sign-in codes), per-user lockout counters and
-- per-IP throttling counters. pool_id leads every key; user rows are referenced with
-- composite foreign keys so a code or lockout of pool A can never point at a user of B.

-- A one-time code: only hashes are stored (HMAC-SHA-256 under a server key, see ADR 0301).
-- purpose:
--   invitation    user_id set; token_hash (the link) and code_hash (typed code)
--   registration  user_id null; payload holds the pending account (password hash, profile)
--   sign_in       user_id set; code_hash
CREATE TABLE one_time_codes (
  pool_id     text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id          text NOT NULL,
  purpose     text NOT NULL CHECK (purpose IN ('invitation', 'registration', 'sign_in')),
  user_id     uuid,
  email       text NOT NULL,
  code_hash   text NOT NULL,
  token_hash  text,
  payload     jsonb NOT NULL DEFAULT '{}',
  attempts    integer NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz,
  PRIMARY KEY (pool_id, id),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX one_time_codes_token ON one_time_codes (pool_id, token_hash) WHERE token_hash IS NOT NULL;
CREATE INDEX one_time_codes_email ON one_time_codes (pool_id, purpose, lower(email));
CREATE INDEX one_time_codes_user ON one_time_codes (pool_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX one_time_codes_expiry ON one_time_codes (expires_at);

-- Failed sign-ins of one user in the current window (pool `lockout` settings).
CREATE TABLE user_lockouts (
  pool_id           text NOT NULL,
  user_id           uuid NOT NULL,
  failures          integer NOT NULL,
  window_started_at timestamptz NOT NULL,
  locked_until      timestamptz,
  PRIMARY KEY (pool_id, user_id),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);

-- Failed sign-ins from one client IP at one pool in the current window.
CREATE TABLE ip_throttles (
  pool_id           text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  ip                text NOT NULL,
  failures          integer NOT NULL,
  window_started_at timestamptz NOT NULL,
  PRIMARY KEY (pool_id, ip)
);

-- Admin search by email prefix (LIKE 'prefix%') through an index, whatever the collation.
CREATE INDEX users_email_prefix ON users (pool_id, lower(email) text_pattern_ops);

-- Disabling or deleting a user revokes their sessions, grants and tokens at once:
-- the provider's artifacts carry the account id in their payload.
CREATE INDEX oidc_artifacts_account ON oidc_artifacts (pool_id, (payload->>'accountId')) WHERE payload->>'accountId' IS NOT NULL;
