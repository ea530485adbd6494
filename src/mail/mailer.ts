/**
 * Outgoing mail. With SMTP_URL, nodemailer sends over SMTP. Without it, outside production
 * only, each message is written to the log as one warn line marked as a development
 * stand-in, since that line is how a developer reads the code or link; callers never log
 * them. Production refuses to start without SMTP_URL (config.ts), and this factory refuses
 * too, so a production log never holds a code or link.
 * The mailer is a dependency of createApp, so tests pass one pointing at their own server.
 */
import type { Logger } from '../log.js';

export const MAIL_KINDS = ['invitation', 'verification', 'sign-in-code', 'password-reset', 'password-changed', 'already-registered'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Which mail this is, for the pool's own template of it (mail-templates.service.ts); never sent. */
  template?: { poolId: string; kind: MailKind; language: string; brand: import('./templates.js').MailBranding; values: Record<string, string> };
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  log: Logger;
  production: boolean;
}

export const LOGGED_MAIL_MARKER = 'DEVELOPMENT ONLY: mail not sent (no SMTP_URL); its text, codes and links included, is written here instead';

export function createMailer({ smtpUrl, from, log, production }: MailerOptions): Mailer {
  if (!smtpUrl) {
    if (production) throw new Error('no mail transport: production needs SMTP_URL');
    return {
      async send(message) {
        log.warn({ mail: { to: message.to, subject: message.subject, text: message.text } }, LOGGED_MAIL_MARKER);
      },
    };
  }
  // nodemailer is loaded by the first mail (≈ 15 MiB that a process sending none need not hold).
  let transport: Promise<import('nodemailer').Transporter> | undefined;
  return {
    async send(message) {
      const { template: _template, ...sent } = message;
      transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport(smtpUrl));
      await (await transport).sendMail({ from, ...sent });
    },
  };
}
