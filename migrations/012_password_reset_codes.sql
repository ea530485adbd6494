-- One-time codes may also reset a forgotten password.
ALTER TABLE one_time_codes DROP CONSTRAINT one_time_codes_purpose_check;
ALTER TABLE one_time_codes ADD CONSTRAINT one_time_codes_purpose_check
  CHECK (purpose IN ('invitation', 'registration', 'sign_in', 'password_reset'));
