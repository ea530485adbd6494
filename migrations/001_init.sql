-- Tarn schema, version 1.
-- Every pool-owned table leads its primary key and each unique index with pool_id
-- (docs/design.md#pool-isolation), and references its pool with ON DELETE CASCADE so
-- deleting a pool deletes everything in it. Composite foreign keys (pool_id, …)
-- make a cross-pool link impossible in PostgreSQL itself.

CREATE TABLE pools (
  id                text PRIMARY KEY,
  name              text NOT NULL,
  description       text NOT NULL DEFAULT '',
  logo_url          text,
  tag_color         text,
  self_registration boolean NOT NULL DEFAULT false,
  sign_in           jsonb NOT NULL,
  profile_schema    jsonb,
  metadata_schema   jsonb,
  password_policy   jsonb NOT NULL,
  lockout           jsonb NOT NULL,
  -- bumped by every change that a running provider must see (settings, clients, keys)
  version           integer NOT NULL DEFAULT 1,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pool_secrets (
  pool_id     text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id          text NOT NULL,
  status      text NOT NULL CHECK (status IN ('current', 'next', 'revoked')),
  secret_hash text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz,
  PRIMARY KEY (pool_id, id)
);
CREATE UNIQUE INDEX pool_secrets_one_current ON pool_secrets (pool_id) WHERE status = 'current';
CREATE UNIQUE INDEX pool_secrets_one_next ON pool_secrets (pool_id) WHERE status = 'next';

CREATE TABLE signing_keys (
  pool_id         text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  kid             text NOT NULL,
  alg             text NOT NULL CHECK (alg IN ('RS256', 'ES256')),
  status          text NOT NULL CHECK (status IN ('next', 'current', 'retired', 'revoked')),
  public_jwk      jsonb NOT NULL,
  private_jwk_enc text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  activated_at    timestamptz,
  retired_at      timestamptz,
  revoked_at      timestamptz,
  PRIMARY KEY (pool_id, kid)
);
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (pool_id, alg) WHERE status = 'current';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (pool_id, alg) WHERE status = 'next';

CREATE TABLE clients (
  pool_id                    text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  client_id                  text NOT NULL,
  name                       text NOT NULL,
  secret_enc                 text,
  redirect_uris              jsonb NOT NULL DEFAULT '[]',
  post_logout_redirect_uris  jsonb NOT NULL DEFAULT '[]',
  grant_types                jsonb NOT NULL,
  token_endpoint_auth_method text NOT NULL,
  backchannel_logout_uri     text,
  jwks                       jsonb,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  secret_rotated_at          timestamptz,
  PRIMARY KEY (pool_id, client_id)
);

CREATE TABLE users (
  pool_id        text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id             uuid NOT NULL,
  email          text NOT NULL,
  email_verified boolean NOT NULL DEFAULT false,
  phone          text,
  status         text NOT NULL CHECK (status IN ('new', 'active', 'disabled')),
  profile        jsonb NOT NULL DEFAULT '{}',
  metadata       jsonb NOT NULL DEFAULT '{}',
  password_hash  text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  last_login_at  timestamptz,
  PRIMARY KEY (pool_id, id)
);
-- email is unique per pool, case-insensitive; the same index serves lookups by email
CREATE UNIQUE INDEX users_email ON users (pool_id, lower(email));

-- node-oidc-provider artifacts: sessions, interactions, grants, codes, tokens …
CREATE TABLE oidc_artifacts (
  pool_id     text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  model       text NOT NULL,
  id          text NOT NULL,
  payload     jsonb NOT NULL,
  grant_id    text,
  user_code   text,
  uid         text,
  expires_at  timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (pool_id, model, id)
);
CREATE INDEX oidc_artifacts_grant ON oidc_artifacts (pool_id, grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_artifacts_uid ON oidc_artifacts (pool_id, model, uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_artifacts_user_code ON oidc_artifacts (pool_id, model, user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_artifacts_expiry ON oidc_artifacts (expires_at) WHERE expires_at IS NOT NULL;
