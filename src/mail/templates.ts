/**
 * The messages Tarn sends, each as text and HTML, branded with the pool's name. The HTML
 * is rendered with ejs from views/mail/, as the hosted pages are; links are absolute URLs
 * under PUBLIC_URL.
 */
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { assetPath, pickText } from '../branding/branding.service.js';
import { themeOf } from '../branding/theme.js';
import type { PoolRow } from '../db/tables.js';
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
function templated(pool: MailBranding, kind: MailKind, to: string, values: Record<string, string>): MailMessage['template'] {
  return pool.id ? { poolId: pool.id, kind, language: pool.language ?? 'en', brand: pool, values: { poolName: pool.name, email: to, ...values } } : undefined;
}

/** The HTML of a mail: views/mail/{view}.ejs, compiled once; ejs escapes every `<%= %>` value. */
const compiled = new Map<string, ejs.TemplateFunction>();
function renderHtml(view: string, locals: Record<string, unknown>): string {
  let template = compiled.get(view);
  if (!template) {
    const filename = `${viewsDir}mail/${view}.ejs`;
    template = ejs.compile(readFileSync(filename, 'utf8'), { filename, root: viewsDir });
    compiled.set(view, template);
  }
  return template(locals);
}

export function invitationMail(pool: MailBranding, to: string, link: string, code: string, expiresAt: Date): MailMessage {
  const subject = `You are invited to ${pool.name}`;
  const text = [
    `You have been invited to ${pool.name}.`,
    '',
    `Activate your account by choosing a password here: ${link}`,
    '',
    `Or enter this code on the activation page: ${code}`,
    '',
    `The invitation expires on ${expiresAt.toUTCString()}. It works once.`,
  ].join('\n');
  const html = renderHtml('invitation', { pool, heading: subject, link, code, expires: expiresAt.toUTCString() });
  return { to, subject, text, html, template: templated(pool, 'invitation', to, { link, code, expires: expiresAt.toUTCString() }) };
}

export function verificationMail(pool: MailBranding, to: string, code: string, minutes: number): MailMessage {
  const subject = `${code} is your ${pool.name} verification code`;
  const text = `Your code to confirm your email address for ${pool.name} is ${code}.\n\nIt expires in ${minutes} minutes.`;
  const html = renderHtml('verification', { pool, code, minutes });
  return { to, subject, text, html, template: templated(pool, 'verification', to, { code, minutes: String(minutes) }) };
}

export function signInCodeMail(pool: MailBranding, to: string, code: string, minutes: number): MailMessage {
  const subject = `${code} is your ${pool.name} sign-in code`;
  const text = `Your code to sign in to ${pool.name} is ${code}.\n\nIt expires in ${minutes} minutes and works once.`;
  const html = renderHtml('sign-in-code', { pool, code, minutes });
  return { to, subject, text, html, template: templated(pool, 'sign-in-code', to, { code, minutes: String(minutes) }) };
}

/** Sent instead of a code when someone registers with an email that already has an account. */
export function alreadyRegisteredMail(pool: MailBranding, to: string): MailMessage {
  const subject = `Your ${pool.name} account`;
  const text = `Someone tried to create a ${pool.name} account with this email address, which already has one. Sign in instead; if it was not you, ignore this message.`;
  const html = renderHtml('already-registered', { pool, text });
  return { to, subject, text, html, template: templated(pool, 'already-registered', to, {}) };
}

export function passwordResetMail(pool: MailBranding, to: string, link: string, code: string, minutes: number): MailMessage {
  const subject = `Reset your ${pool.name} password`;
  const text = [
    `Someone asked to reset the password of your ${pool.name} account. If it was you, choose a new password here: ${link}`,
    '',
    `Or enter this code on the password reset page: ${code}`,
    '',
    `It expires in ${minutes} minutes and works once. If it was not you, ignore this message: your password stays as it is.`,
  ].join('\n');
  const html = renderHtml('password-reset', { pool, link, code, minutes });
  return { to, subject, text, html, template: templated(pool, 'password-reset', to, { link, code, minutes: String(minutes) }) };
}

/** Sent after a password change, so that an owner who did not make it learns of it. */
export function passwordChangedMail(pool: MailBranding, to: string): MailMessage {
  const subject = `Your ${pool.name} password was changed`;
  const text = `The password of your ${pool.name} account was just changed, and every other session was signed out. If it was not you, reset your password now and tell your administrator.`;
  const html = renderHtml('password-changed', { pool, text });
  return { to, subject, text, html, template: templated(pool, 'password-changed', to, {}) };
}

/** To a new address a user typed on the account page: the code that confirms it is theirs. */
export function emailChangeCodeMail(pool: MailBranding, to: string, code: string, minutes: number): MailMessage {
  const subject = `${code} is your ${pool.name} code to confirm this address`;
  const text = `Enter this code on your ${pool.name} account page to make this your sign-in address: ${code}\n\nIt expires in ${minutes} minutes and works once. If you did not ask for it, ignore this message.`;
  const html = renderHtml('email-change-code', { pool, code, minutes });
  return { to, subject, text, html };
}

/** To the old address once the new one is confirmed. */
export function emailChangedMail(pool: MailBranding, to: string, newEmail: string): MailMessage {
  const subject = `Your ${pool.name} email address was changed`;
  const text = `The sign-in address of your ${pool.name} account was changed from this address to ${newEmail}. If it was not you, contact your administrator now.`;
  const html = renderHtml('account-notice', { pool, heading: 'Your email address was changed', text });
  return { to, subject, text, html };
}

/** After a user deleted their own account on the account page. */
export function accountDeletedMail(pool: MailBranding, to: string): MailMessage {
  const subject = `Your ${pool.name} account was deleted`;
  const text = `Your ${pool.name} account and everything in it was deleted, as you asked on your account page. If it was not you, contact your administrator.`;
  const html = renderHtml('account-notice', { pool, heading: 'Your account was deleted', text });
  return { to, subject, text, html };
}
