-- Events as an outbox, and the pool's webhooks (ADR 0809).
-- audit_events is the event table: every event row is written together with one delivery
-- row per webhook of its pool that wants its type, in one statement (and, where the caller
-- passes its transaction, in the transaction of the change). Workers on every instance
-- claim due deliveries with FOR UPDATE SKIP LOCKED and a lease (locked_until).
CREATE TABLE webhooks (
  pool_id              text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  id                   text NOT NULL,
  url                  text NOT NULL,
  description          text NOT NULL DEFAULT '',
  -- event types as in docs/events.md; "*" is every type, "users.*" every type starting with "users."
  event_types          jsonb NOT NULL,
  enabled              boolean NOT NULL DEFAULT true,
  -- why the system disabled it (null when enabled, or disabled by an admin)
  disabled_reason      text,
  secret_enc           text NOT NULL,
  -- the secret before the last rotation, still signing until previous_expires_at
  previous_secret_enc  text,
  previous_expires_at  timestamptz,
  -- first failed attempt since the last success (null while it succeeds)
  failing_since        timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pool_id, id)
);

CREATE TABLE webhook_deliveries (
  pool_id          text NOT NULL,
  id               text COLLATE "C" NOT NULL,
  webhook_id       text NOT NULL,
  event_id         text COLLATE "C" NOT NULL,
  -- pending (to send, now or at next_attempt_at), delivered, failed (gave up)
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  locked_until     timestamptz,
  last_status_code integer,
  last_duration_ms integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  PRIMARY KEY (pool_id, id),
  FOREIGN KEY (pool_id, webhook_id) REFERENCES webhooks (pool_id, id) ON DELETE CASCADE,
  FOREIGN KEY (pool_id, event_id) REFERENCES audit_events (pool_id, id) ON DELETE CASCADE
);
-- What the workers look for: due pending deliveries, oldest first.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of_webhook ON webhook_deliveries (pool_id, webhook_id, id);

-- Every attempt of a delivery: the delivery log shows the backoff between them.
CREATE TABLE webhook_attempts (
  pool_id      text NOT NULL,
  delivery_id  text COLLATE "C" NOT NULL,
  attempt      integer NOT NULL,
  started_at   timestamptz NOT NULL,
  duration_ms  integer NOT NULL,
  status_code  integer,
  error        text,
  response     text,
  PRIMARY KEY (pool_id, delivery_id, attempt),
  FOREIGN KEY (pool_id, delivery_id) REFERENCES webhook_deliveries (pool_id, id) ON DELETE CASCADE
);
