-- Accounts and anonymous mail (ADR 0303).

-- A pending self-registration belongs to the browser that submitted it: its code row carries
-- a keyed hash of that sign-in's interaction id, and only that interaction can use the code.
-- Pending registrations from before this column have none and can no longer be completed
-- (they expire within 10 minutes; the person submits the form again).
ALTER TABLE one_time_codes ADD COLUMN binding text;

-- Requests by anonymous visitors that may mail an address (registration, "email me a code"):
-- the resend interval and the per-address and per-client-IP limits count these rows.
-- address is the normalised, lower-cased email. Rows older than a day are purged.
CREATE TABLE mail_requests (
  pool_id      text NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
  address      text NOT NULL,
  ip           text NOT NULL,
  requested_at timestamptz NOT NULL
);
CREATE INDEX mail_requests_address ON mail_requests (pool_id, address, requested_at);
CREATE INDEX mail_requests_ip ON mail_requests (pool_id, ip, requested_at);
CREATE INDEX mail_requests_age ON mail_requests (requested_at);

-- Failed sign-ins per client IP are limited by the request frame alone (ADR 0802).
DROP TABLE ip_throttles;

-- Emails are stored in Unicode NFKC with a lower-case domain, so "ａlice@Example.com" and
-- "alice@example.com" are one identity. Rows whose normalised form would collide with another
-- row of the same pool are left as they are (an admin resolves them; see ADR 0303).
WITH normalised AS (
  SELECT pool_id, id, normalize(email, NFKC) AS n FROM users WHERE position('@' in email) > 0
), target AS (
  SELECT pool_id, id, left(n, length(n) - position('@' in reverse(n))) || '@' || lower(right(n, position('@' in reverse(n)) - 1)) AS email
  FROM normalised
)
UPDATE users u SET email = t.email
FROM target t
WHERE u.pool_id = t.pool_id AND u.id = t.id AND u.email <> t.email
  AND NOT EXISTS (SELECT 1 FROM target o WHERE o.pool_id = t.pool_id AND o.id <> t.id AND lower(o.email) = lower(t.email));

UPDATE one_time_codes c SET email = left(n, length(n) - position('@' in reverse(n))) || '@' || lower(right(n, position('@' in reverse(n)) - 1))
FROM (SELECT pool_id, id, normalize(email, NFKC) AS n FROM one_time_codes WHERE position('@' in email) > 0) AS m
WHERE c.pool_id = m.pool_id AND c.id = m.id;
