/**
 * Outgoing mail. With SMTP_URL, nodemailer sends over SMTP; without it (development),
 * each message is written to the log as one line, since that line is how a developer
 * reads the code or link. Codes and links appear in that line only: callers never log them.
 * The mailer is a dependency of createApp, so tests pass one pointing at their own server.
 */
import nodemailer from 'nodemailer';
import type { Logger } from '../log.js';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export interface MailerOptions {
  smtpUrl: string | undefined;
  from: string;
  log: Logger;
}

export function createMailer({ smtpUrl, from, log }: MailerOptions): Mailer {
  if (!smtpUrl) {
    return {
      async send(message) {
        log.info({ mail: { to: message.to, subject: message.subject, text: message.text } }, 'mail not sent (no SMTP_URL): written here instead');
      },
    };
  }
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(message) {
      await transport.sendMail({ from, ...message });
    },
  };
}

