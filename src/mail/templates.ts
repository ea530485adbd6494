/**
 * The messages Tarn sends, each as text and HTML, branded with the pool's name and written in
 * the recipient's language (src/i18n: the language of the page that asked for it, else the
 * user's locale claim, else the pool's default, else English; mailLocale below). The HTML is
 * rendered with ejs from views/mail/, as the hosted pages are; links are absolute URLs under
 * PUBLIC_URL. Expiry is said in words ("in 10 minutes"), and dates in the language's form.
 */
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { assetPath, pickText } from '../branding/branding.service.js';
import { themeOf } from '../branding/theme.js';
import type { PoolRow } from '../db/tables.js';
import { DEFAULT_LOCALE, type Locale } from '../i18n/catalogues.js';
import { chooseLocale, matchLocale } from '../i18n/negotiate.js';
import { translatorFor, type Translator } from '../i18n/translator.js';
import { viewsDir } from '../views/render.js';
import type { MailKind, MailMessage } from './mailer.js';

export interface MailBranding {
  /** The pool's id: its own mail templates (mail-templates.service.ts) are found by it. */
  id?: string;
  name: string;
  /** The colour of buttons: the branding's primary colour, else the pool's tagColor. */
  tagColor: string | null;
  /** An absolute URL of the pool's raster logo (mail programs rarely show SVG). */
  logoUrl?: string | null;
  backgroundColor?: string;
  textColor?: string;
  footer?: string;
  language?: string;
}

/** The brand a pool's mails carry (docs/adr/0401). */
export function mailBrandOf(pool: PoolRow, publicUrl: string, language = 'en'): MailBranding {
  const branding = pool.branding ?? {};
  const themed = Boolean(branding.primaryColor || branding.backgroundColor || branding.textColor || branding.scheme);
  const theme = themeOf(branding, pool.tag_color);
  const logo = branding.logo && branding.logo.mediaType !== 'image/svg+xml' ? `${publicUrl}${assetPath(pool.id, 'logo', branding.logo)}` : pool.logo_url;
  return {
    id: pool.id,
    name: pickText(branding.title, language) ?? pool.name,
    tagColor: branding.primaryColor ?? pool.tag_color,
    logoUrl: logo,
    ...(themed ? { backgroundColor: theme.background, textColor: theme.text } : {}),
    footer: pickText(branding.footer, language),
    language,
  };
}

/** What a pool's own template for this mail may use (mail-templates.service.ts). */
function templated(pool: MailBranding, kind: MailKind, to: string, locale: Locale, values: Record<string, string>): MailMessage['template'] {
  return pool.id
    ? { poolId: pool.id, kind, language: locale, brand: { ...pool, language: locale }, values: { poolName: pool.name, email: to, ...values } }
    : undefined;
}

/** The language a mail is written in when the caller names none: the brand's (mailBrandOf), else English. */
const brandLocale = (pool: MailBranding): Locale => matchLocale(pool.language ?? '') ?? DEFAULT_LOCALE;

/** The language of a mail: the page's that asked for it, else the user's locale claim, else the pool's default, else English. */
export function mailLocale(
  requested: Locale | undefined,
  user: { profile?: Record<string, unknown> } | undefined,
  pool: { default_locale?: string | null },
): Locale {
  return requested ?? chooseLocale({ userLocale: user?.profile?.locale, poolDefault: pool.default_locale });
}

/** The HTML of a mail: views/mail/{view}.ejs, compiled once; ejs escapes every `<%= %>` value. */
const compiled = new Map<string, ejs.TemplateFunction>();
function renderHtml(view: string, i18n: Translator, locals: Record<string, unknown>): string {
  let template = compiled.get(view);
  if (!template) {
    const filename = `${viewsDir}mail/${view}.ejs`;
    template = ejs.compile(readFileSync(filename, 'utf8'), { filename, root: viewsDir });
    compiled.set(view, template);
  }
  return template({ ...locals, t: i18n.t, lang: i18n.locale, dir: i18n.dir });
}

export function invitationMail(pool: MailBranding, to: string, link: string, code: string, expiresAt: Date, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const values = { pool: pool.name };
  const subject = i18n.t('email.invitation.subject', values);
  const expires = i18n.t('email.invitation.expires', { date: i18n.dateTime(expiresAt), when: i18n.relative(expiresAt) });
  const text = [
    i18n.t('email.invitation.text', values),
    '',
    `${i18n.t('email.invitation.button')}: ${link}`,
    '',
    `${i18n.t('email.invitation.codeIntro')} ${code}`,
    '',
    expires,
  ].join('\n');
  const html = renderHtml('invitation', i18n, { pool, heading: subject, link, code, expires });
  return { to, subject, text, html, template: templated(pool, 'invitation', to, locale, { link, code, expires: i18n.dateTime(expiresAt) }) };
}

export function verificationMail(pool: MailBranding, to: string, code: string, minutes: number, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.verification.subject', { code, pool: pool.name });
  const expires = i18n.t('email.expiresIn', { when: i18n.inMinutes(minutes) });
  const text = `${i18n.t('email.verification.intro', { pool: pool.name })} ${code}\n\n${expires}`;
  const html = renderHtml('verification', i18n, { pool, code, expires });
  return { to, subject, text, html, template: templated(pool, 'verification', to, locale, { code, minutes: String(minutes) }) };
}

export function signInCodeMail(pool: MailBranding, to: string, code: string, minutes: number, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.signInCode.subject', { code, pool: pool.name });
  const expires = i18n.t('email.expiresInOnce', { when: i18n.inMinutes(minutes) });
  const text = `${i18n.t('email.signInCode.intro', { pool: pool.name })} ${code}\n\n${expires}`;
  const html = renderHtml('sign-in-code', i18n, { pool, code, expires });
  return { to, subject, text, html, template: templated(pool, 'sign-in-code', to, locale, { code, minutes: String(minutes) }) };
}

/** Sent instead of a code when someone registers with an email that already has an account. */
export function alreadyRegisteredMail(pool: MailBranding, to: string, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.alreadyRegistered.subject', { pool: pool.name });
  const text = i18n.t('email.alreadyRegistered.text', { pool: pool.name });
  const html = renderHtml('already-registered', i18n, { pool, text });
  return { to, subject, text, html, template: templated(pool, 'already-registered', to, locale, {}) };
}

export function passwordResetMail(
  pool: MailBranding,
  to: string,
  link: string,
  code: string,
  minutes: number,
  locale: Locale = brandLocale(pool),
): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.reset.subject', { pool: pool.name });
  const expires = `${i18n.t('email.expiresInOnce', { when: i18n.inMinutes(minutes) })} ${i18n.t('email.reset.ignore')}`;
  const text = [`${i18n.t('email.reset.intro', { pool: pool.name })} ${link}`, '', `${i18n.t('email.reset.codeIntro')} ${code}`, '', expires].join('\n');
  const html = renderHtml('password-reset', i18n, { pool, link, code, expires });
  return { to, subject, text, html, template: templated(pool, 'password-reset', to, locale, { link, code, minutes: String(minutes) }) };
}

/** Sent after a password change, so that an owner who did not make it learns of it. */
export function passwordChangedMail(pool: MailBranding, to: string, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.changed.subject', { pool: pool.name });
  const text = i18n.t('email.changed.text', { pool: pool.name });
  const html = renderHtml('password-changed', i18n, { pool, text });
  return { to, subject, text, html, template: templated(pool, 'password-changed', to, locale, {}) };
}

/** To a new address a user typed on the account page: the code that confirms it is theirs. */
export function emailChangeCodeMail(pool: MailBranding, to: string, code: string, minutes: number, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.emailChangeCode.subject', { code, pool: pool.name });
  const expires = `${i18n.t('email.expiresInOnce', { when: i18n.inMinutes(minutes) })} ${i18n.t('email.emailChangeCode.ignore')}`;
  const text = `${i18n.t('email.emailChangeCode.intro', { pool: pool.name })} ${code}\n\n${expires}`;
  const html = renderHtml('email-change-code', i18n, { pool, code, expires });
  return { to, subject, text, html };
}

/** To the old address once the new one is confirmed. */
export function emailChangedMail(pool: MailBranding, to: string, newEmail: string, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.emailChanged.subject', { pool: pool.name });
  const text = i18n.t('email.emailChanged.text', { pool: pool.name, email: newEmail });
  const html = renderHtml('account-notice', i18n, { pool, heading: i18n.t('email.emailChanged.heading'), text });
  return { to, subject, text, html };
}

/** After a user deleted their own account on the account page. */
export function accountDeletedMail(pool: MailBranding, to: string, locale: Locale = brandLocale(pool)): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.accountDeleted.subject', { pool: pool.name });
  const text = i18n.t('email.accountDeleted.text', { pool: pool.name });
  const html = renderHtml('account-notice', i18n, { pool, heading: i18n.t('email.accountDeleted.heading'), text });
  return { to, subject, text, html };
}
