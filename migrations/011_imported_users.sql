-- Users brought in from another system (bulk import, docs/migrate.md; ADR 0305).
-- password_hash may now hold a foreign hash in a self-describing form (bcrypt, PBKDF2,
-- scrypt, Firebase scrypt: src/users/password-hashes/), rehashed to argon2id at the first
-- sign-in. password_change records what the import asked for:
--   required  the user must choose a new password at the next sign-in
--   if_weak   check the password against the pool's policy at the next sign-in, and
--             require a change if it fails (an imported hash cannot be checked before)
ALTER TABLE users ADD COLUMN password_change text CHECK (password_change IN ('required', 'if_weak'));
