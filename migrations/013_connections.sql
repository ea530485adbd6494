-- Upstream identity providers of a pool ("connections") and the identities users hold
-- through them (docs/adr/0900).
-- - A connection belongs to one pool; its name (used in URLs and the `idp` parameter) is
--   unique in the pool. The client secret is sealed with the master key, bound to the row.
-- - A linked identity ties one upstream subject of one connection to one user of the same
--   pool: composite foreign keys refuse a link across pools in PostgreSQL itself, and the
--   primary key makes one upstream subject sign in as exactly one user. Deleting the user,
--   the connection or the pool deletes the link.

CREATE TABLE connections (
  pool_id                text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id                     uuid NOT NULL,
  name                   text NOT NULL,
  type                   text NOT NULL CHECK (type IN ('oidc', 'oauth2')),
  preset                 text,
  display_name           text NOT NULL,
  logo_url               text,
  hidden                 boolean NOT NULL DEFAULT false,
  enabled                boolean NOT NULL DEFAULT true,
  settings               jsonb NOT NULL,
  client_id              text NOT NULL,
  secret_enc             text,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, id)
);
CREATE UNIQUE INDEX connections_name ON connections (pool_id, name);

CREATE TABLE linked_identities (
  pool_id       text NOT NULL,
  connection_id uuid NOT NULL,
  subject       text NOT NULL,
  user_id       uuid NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, connection_id, subject),
  FOREIGN KEY (pool_id, connection_id) REFERENCES connections (pool_id, id) ON DELETE CASCADE,
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX linked_identities_user ON linked_identities (pool_id, user_id, connection_id);
