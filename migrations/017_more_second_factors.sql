-- More second factors (docs/adr/0309): an application that requires a second factor for
-- every sign-in to it, emailed codes as a second factor, and one count of wrong second
-- factors per user whatever the factor (app code, recovery code, emailed code, passkey).
ALTER TABLE clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

ALTER TABLE one_time_codes DROP CONSTRAINT one_time_codes_purpose_check;
ALTER TABLE one_time_codes ADD CONSTRAINT one_time_codes_purpose_check
  CHECK (purpose IN ('invitation', 'registration', 'sign_in', 'password_reset', 'email_change', 'second_factor'));

-- Wrong second factors since the last right one: a right first factor does not reset it.
CREATE TABLE user_factor_failures (
  pool_id  text NOT NULL,
  user_id  uuid NOT NULL,
  failures integer NOT NULL DEFAULT 0,
  PRIMARY KEY (pool_id, user_id),
  FOREIGN KEY (pool_id, user_id) REFERENCES users (pool_id, id) ON DELETE CASCADE
);
-- What the app's own counter held carries over.
INSERT INTO user_factor_failures (pool_id, user_id, failures)
  SELECT pool_id, user_id, failures FROM user_totp WHERE failures > 0;
