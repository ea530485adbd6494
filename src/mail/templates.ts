/**
 * The messages Tarn sends, each as text and HTML, branded with the pool's name.
 * Every value is HTML-escaped; links are absolute URLs under PUBLIC_URL.
 */
import type { MailMessage } from './mailer.js';

export interface MailBranding {
  name: string;
  tagColor: string | null;
}

const escapeHtml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function layout(pool: MailBranding, heading: string, body: string): string {
  const accent = pool.tagColor ?? '#2f6feb';
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;color:#1c2430;background:#f4f6f9;padding:24px">
<div style="max-width:480px;margin:auto;background:#fff;border-radius:12px;padding:24px;border-top:4px solid ${escapeHtml(accent)}">
<p style="font-weight:600;margin:0 0 8px">${escapeHtml(pool.name)}</p>
<h1 style="font-size:20px">${escapeHtml(heading)}</h1>
${body}
<p style="color:#5b6675;font-size:12px;margin-top:24px">Secured by Tarn. If you did not expect this message, ignore it.</p>
</div></body></html>`;
}

const codeBlock = (code: string) =>
  `<p style="font-size:28px;letter-spacing:6px;font-weight:700;font-family:monospace" data-code="${escapeHtml(code)}">${escapeHtml(code)}</p>`;

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
  const html = layout(
    pool,
    subject,
    `<p>You have been invited to ${escapeHtml(pool.name)}. Choose a password to activate your account.</p>
<p><a href="${escapeHtml(link)}" data-link="activation" style="display:inline-block;background:${escapeHtml(pool.tagColor ?? '#2f6feb')};color:#fff;padding:10px 16px;border-radius:8px;text-decoration:none">Activate my account</a></p>
<p>Or enter this code on the activation page:</p>${codeBlock(code)}
<p style="color:#5b6675">The invitation expires on ${escapeHtml(expiresAt.toUTCString())}. It works once.</p>`,
  );
  return { to, subject, text, html };
}

export function verificationMail(pool: MailBranding, to: string, code: string, minutes: number): MailMessage {
  const subject = `${code} is your ${pool.name} verification code`;
  const text = `Your code to confirm your email address for ${pool.name} is ${code}.\n\nIt expires in ${minutes} minutes.`;
  const html = layout(pool, 'Confirm your email address', `<p>Enter this code to finish creating your ${escapeHtml(pool.name)} account:</p>${codeBlock(code)}<p style="color:#5b6675">It expires in ${minutes} minutes.</p>`);
  return { to, subject, text, html };
}

export function signInCodeMail(pool: MailBranding, to: string, code: string, minutes: number): MailMessage {
  const subject = `${code} is your ${pool.name} sign-in code`;
  const text = `Your code to sign in to ${pool.name} is ${code}.\n\nIt expires in ${minutes} minutes and works once.`;
  const html = layout(pool, 'Your sign-in code', `<p>Enter this code to sign in to ${escapeHtml(pool.name)}:</p>${codeBlock(code)}<p style="color:#5b6675">It expires in ${minutes} minutes and works once.</p>`);
  return { to, subject, text, html };
}

/** Sent instead of a code when someone registers with an email that already has an account. */
export function alreadyRegisteredMail(pool: MailBranding, to: string): MailMessage {
  const subject = `Your ${pool.name} account`;
  const text = `Someone tried to create a ${pool.name} account with this email address, which already has one. Sign in instead; if it was not you, ignore this message.`;
  const html = layout(pool, 'You already have an account', `<p>${escapeHtml(text)}</p>`);
  return { to, subject, text, html };
}
