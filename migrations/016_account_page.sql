-- The hosted account page (docs/adr/0306): what a pool lets its users do there.
-- account.allowDeletion: whether a user may delete their own account (default: no).
ALTER TABLE pools ADD COLUMN account jsonb NOT NULL DEFAULT '{"allowDeletion": false}';

-- A new email address is confirmed by a code mailed to it before it takes effect.
ALTER TABLE one_time_codes DROP CONSTRAINT one_time_codes_purpose_check;
ALTER TABLE one_time_codes ADD CONSTRAINT one_time_codes_purpose_check
  CHECK (purpose IN ('invitation', 'registration', 'sign_in', 'password_reset', 'email_change'));
