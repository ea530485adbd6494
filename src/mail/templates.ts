/**
 * The messages Tarn sends, each as text and HTML, branded with the pool's name and written in
 * the recipient's language (src/i18n: the language of the page that asked for it, else the
 * user's locale claim, else the pool's default, else English; mailLocale below). The HTML is
 * rendered with ejs from views/mail/, as the hosted pages are; links are absolute URLs under
 * PUBLIC_URL. Expiry is said in words ("in 10 minutes"), and dates in the language's form.
 */
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { DEFAULT_LOCALE, type Locale } from '../i18n/catalogues.js';
import { chooseLocale } from '../i18n/negotiate.js';
import { translatorFor, type Translator } from '../i18n/translator.js';
import { viewsDir } from '../views/render.js';
import type { MailMessage } from './mailer.js';

export interface MailBranding {
  name: string;
  tagColor: string | null;
}

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

export function invitationMail(pool: MailBranding, to: string, link: string, code: string, expiresAt: Date, locale: Locale = DEFAULT_LOCALE): MailMessage {
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
  return { to, subject, text, html };
}

export function verificationMail(pool: MailBranding, to: string, code: string, minutes: number, locale: Locale = DEFAULT_LOCALE): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.verification.subject', { code, pool: pool.name });
  const expires = i18n.t('email.expiresIn', { when: i18n.inMinutes(minutes) });
  const text = `${i18n.t('email.verification.intro', { pool: pool.name })} ${code}\n\n${expires}`;
  const html = renderHtml('verification', i18n, { pool, code, expires });
  return { to, subject, text, html };
}

export function signInCodeMail(pool: MailBranding, to: string, code: string, minutes: number, locale: Locale = DEFAULT_LOCALE): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.signInCode.subject', { code, pool: pool.name });
  const expires = i18n.t('email.expiresInOnce', { when: i18n.inMinutes(minutes) });
  const text = `${i18n.t('email.signInCode.intro', { pool: pool.name })} ${code}\n\n${expires}`;
  const html = renderHtml('sign-in-code', i18n, { pool, code, expires });
  return { to, subject, text, html };
}

/** Sent instead of a code when someone registers with an email that already has an account. */
export function alreadyRegisteredMail(pool: MailBranding, to: string, locale: Locale = DEFAULT_LOCALE): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.alreadyRegistered.subject', { pool: pool.name });
  const text = i18n.t('email.alreadyRegistered.text', { pool: pool.name });
  const html = renderHtml('already-registered', i18n, { pool, text });
  return { to, subject, text, html };
}

export function passwordResetMail(pool: MailBranding, to: string, link: string, code: string, minutes: number, locale: Locale = DEFAULT_LOCALE): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.reset.subject', { pool: pool.name });
  const expires = `${i18n.t('email.expiresInOnce', { when: i18n.inMinutes(minutes) })} ${i18n.t('email.reset.ignore')}`;
  const text = [`${i18n.t('email.reset.intro', { pool: pool.name })} ${link}`, '', `${i18n.t('email.reset.codeIntro')} ${code}`, '', expires].join('\n');
  const html = renderHtml('password-reset', i18n, { pool, link, code, expires });
  return { to, subject, text, html };
}

/** Sent after a password change, so that an owner who did not make it learns of it. */
export function passwordChangedMail(pool: MailBranding, to: string, locale: Locale = DEFAULT_LOCALE): MailMessage {
  const i18n = translatorFor(locale);
  const subject = i18n.t('email.changed.subject', { pool: pool.name });
  const text = i18n.t('email.changed.text', { pool: pool.name });
  const html = renderHtml('password-changed', i18n, { pool, text });
  return { to, subject, text, html };
}
