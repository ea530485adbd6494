-- Pool branding (docs/adr/0401): colours, scheme and per-language texts on the pool; the
-- uploaded logo and favicon as rows of their own, served under their content hash; mail
-- templates per kind and language; first-party clients; consent remembered per user and client.
ALTER TABLE pools ADD COLUMN branding jsonb NOT NULL DEFAULT '{}'::jsonb;

CREATE TABLE pool_assets (
  pool_id    text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  kind       text NOT NULL CHECK (kind IN ('logo', 'favicon')),
  -- SHA-256 of the stored bytes, hex: the asset's URL names it, so a changed asset is a new URL.
  sha256     text NOT NULL,
  media_type text NOT NULL CHECK (media_type IN ('image/png', 'image/webp', 'image/svg+xml')),
  content    bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, kind)
);

CREATE TABLE mail_templates (
  pool_id    text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  kind       text NOT NULL,
  language   text NOT NULL,
  subject    text NOT NULL,
  html       text NOT NULL,
  text       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, kind, language)
);

-- First-party applications of the pool's owner: no consent page, consent recorded as implicit.
ALTER TABLE clients ADD COLUMN first_party boolean NOT NULL DEFAULT false;

-- The grant a user gave an application, so a new browser session does not ask again for
-- scopes already granted. The grant itself is an oidc-provider artifact (with its own expiry).
CREATE TABLE consent_grants (
  pool_id    text NOT NULL,
  user_id    uuid NOT NULL,
  client_id  text NOT NULL,
  grant_id   text NOT NULL,
  -- true: given by being a first-party application (no page shown); false: the user allowed it.
  implicit   boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, user_id, client_id),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE,
  FOREIGN KEY (pool_id, client_id) REFERENCES clients (pool_id, client_id) ON DELETE CASCADE
);
