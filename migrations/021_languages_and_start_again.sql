-- The language of a pool's hosted pages and mails when neither the request (ui_locales), the
-- user (locale claim) nor the browser (Accept-Language) names one it ships (docs/adr/0400).
-- NULL: English.
ALTER TABLE pools ADD COLUMN default_locale text;

-- Where a person can start again at the application (OIDC Registration §2 client_uri and
-- initiate_login_uri): offered on error pages and after sign-out (docs/adr/0400).
ALTER TABLE clients ADD COLUMN client_uri text;
ALTER TABLE clients ADD COLUMN initiate_login_uri text;
