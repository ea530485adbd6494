-- The console (ADR 1000): administrators are users of the built-in admin pool "tarn-admin"
-- (created by the application at its first start, with keys, like any pool). Their roles
-- live here, next to that pool's users: owner (everything), or per managed pool admin or viewer.
CREATE TABLE administrator_roles (
  pool_id         text NOT NULL DEFAULT 'tarn-admin' CHECK (pool_id = 'tarn-admin'),
  user_id         uuid NOT NULL,
  role            text NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
  -- the pool this role is about; none for an owner
  managed_pool_id text REFERENCES pools (id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE,
  CHECK ((role = 'owner') = (managed_pool_id IS NULL))
);
CREATE UNIQUE INDEX administrator_roles_one_owner_row ON administrator_roles (user_id) WHERE managed_pool_id IS NULL;
CREATE UNIQUE INDEX administrator_roles_one_per_pool ON administrator_roles (user_id, managed_pool_id) WHERE managed_pool_id IS NOT NULL;

-- First run: the one-time link that lets the first owner in (stored hashed; single use, expiring).
CREATE TABLE console_setup_tokens (
  token_hash text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A human administrator acting through the console's token is named in the audit log.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check
  CHECK (actor_kind IN ('admin', 'pool_secret', 'user', 'anonymous', 'system', 'administrator'));
