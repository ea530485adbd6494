-- The audit log (ADR 0804): every admin action and every security event of a pool.
-- Pool-scoped like every other table: pool_id leads the key, and deleting a pool deletes
-- its audit trail with it. Ids sort by time (see src/audit/audit.service.ts), so the
-- newest-first listing and its cursor use the primary key alone.
CREATE TABLE audit_events (
  pool_id     text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id          text COLLATE "C" NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  -- who: admin (the admin token), pool_secret (a pool API secret, actor_id = its id),
  -- user (an end user, actor_id = user id), anonymous, system
  actor_kind  text NOT NULL CHECK (actor_kind IN ('admin', 'pool_secret', 'user', 'anonymous', 'system')),
  actor_id    text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  outcome     text NOT NULL CHECK (outcome IN ('success', 'failure')),
  status      integer,
  request_id  text,
  ip          text,
  details     jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (pool_id, id)
);
CREATE INDEX audit_events_action ON audit_events (pool_id, action, id);
CREATE INDEX audit_events_time ON audit_events (pool_id, occurred_at);
