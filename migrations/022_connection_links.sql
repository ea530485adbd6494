-- Emailed codes that prove an existing account before an upstream identity is linked to it
-- (docs/adr/0900): a purpose of their own, bound to the sign-in that asked, so a code mailed
-- for a second factor or a sign-in never proves a link and the reverse.
ALTER TABLE one_time_codes DROP CONSTRAINT one_time_codes_purpose_check;
ALTER TABLE one_time_codes ADD CONSTRAINT one_time_codes_purpose_check
  CHECK (purpose IN ('invitation', 'registration', 'sign_in', 'password_reset', 'email_change', 'second_factor', 'connection_link'));

-- Upstream tokens of a linked identity, sealed with the master key and bound to the identity,
-- kept only where its connection says `storeTokens` (settings). They live on the identity's
-- row, so unlinking, deleting the user or deleting the connection deletes them with it.
ALTER TABLE linked_identities ADD COLUMN tokens_enc text;
