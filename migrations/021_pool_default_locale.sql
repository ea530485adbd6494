-- The language of a pool's hosted pages and mails when neither the request (ui_locales), the
-- user (locale claim) nor the browser (Accept-Language) names one it ships (docs/adr/0400).
-- NULL: English.
ALTER TABLE pools ADD COLUMN default_locale text;
