/**
 * A pool's own mails (docs/adr/0401): per kind and language, a subject, an HTML body and a
 * text body with `{{placeholders}}` (placeholders.ts: logic-less, since they are admin
 * input). The HTML body is framed by the pool's brand (views/mail/pool-template.ejs: logo,
 * colours, footer). Sending: `withPoolTemplates` wraps the mailer, and a mail whose pool
 * has a template for its kind in its language (exact tag, then the primary language) is sent
 * from it; otherwise Tarn's own.
 */
import ejs from 'ejs';
import { readFileSync } from 'node:fs';
import { changeWithEvents, type RecordChange } from '../audit/audit.service.js';
import type { Db } from '../db/database.js';
import type { MailTemplateRow, PoolRow } from '../db/tables.js';
import { fieldError, problems, type FieldError } from '../http/problem.js';
import { DEFAULT_LOCALE } from '../i18n/catalogues.js';
import { matchLocale } from '../i18n/negotiate.js';
import { translatorFor } from '../i18n/translator.js';
import { viewsDir } from '../views/render.js';
import type { MailKind, Mailer, MailMessage } from './mailer.js';
import { createMailTemplateQueries } from './mail-templates.queries.js';
import type { PutMailTemplateInput } from './mail-templates.schemas.js';
import { fillPlaceholders, placeholdersIn } from './placeholders.js';
import {
  alreadyRegisteredMail,
  invitationMail,
  mailBrandOf,
  passwordChangedMail,
  passwordResetMail,
  signInCodeMail,
  verificationMail,
  type MailBranding,
} from './templates.js';

const COMMON = ['poolName', 'email'];
export const PLACEHOLDERS: Record<MailKind, string[]> = {
  invitation: [...COMMON, 'link', 'code', 'expires'],
  verification: [...COMMON, 'code', 'minutes'],
  'sign-in-code': [...COMMON, 'code', 'minutes'],
  'password-reset': [...COMMON, 'link', 'code', 'minutes'],
  'password-changed': COMMON,
  'already-registered': COMMON,
};

/** Tarn's own mail of each kind, for a preview with sample values. */
function builtIn(kind: MailKind, brand: MailBranding, sample: Record<string, string>): MailMessage {
  const minutes = Number(sample.minutes);
  switch (kind) {
    case 'invitation':
      return invitationMail(brand, sample.email!, sample.link!, sample.code!, new Date(Date.now() + 7 * 86_400_000));
    case 'verification':
      return verificationMail(brand, sample.email!, sample.code!, minutes);
    case 'sign-in-code':
      return signInCodeMail(brand, sample.email!, sample.code!, minutes);
    case 'password-reset':
      return passwordResetMail(brand, sample.email!, sample.link!, sample.code!, minutes);
    case 'password-changed':
      return passwordChangedMail(brand, sample.email!);
    case 'already-registered':
      return alreadyRegisteredMail(brand, sample.email!);
  }
}

const frameFile = `${viewsDir}mail/pool-template.ejs`;
let frame: ejs.TemplateFunction | undefined;

/** A pool template filled with `values`, its HTML inside the branded frame. */
export function renderPoolTemplate(brand: MailBranding, template: { subject: string; html: string; text: string }, values: Record<string, string>) {
  frame ??= ejs.compile(readFileSync(frameFile, 'utf8'), { filename: frameFile, root: viewsDir });
  const subject = fillPlaceholders(template.subject, values, 'subject');
  const i18n = translatorFor(matchLocale(brand.language ?? '') ?? DEFAULT_LOCALE);
  return {
    subject,
    html: frame({
      pool: brand,
      heading: subject,
      body: fillPlaceholders(template.html, values, 'html'),
      t: i18n.t,
      lang: brand.language ?? i18n.locale,
      dir: i18n.dir,
    }),
    text: fillPlaceholders(template.text, values, 'text'),
  };
}

function unknownPlaceholders(kind: MailKind, input: Partial<PutMailTemplateInput>): FieldError[] {
  const offered = PLACEHOLDERS[kind];
  const errors: FieldError[] = [];
  for (const field of ['subject', 'html', 'text'] as const) {
    const unknown = [...new Set(placeholdersIn(input[field] ?? ''))].filter((name) => !offered.includes(name));
    if (unknown.length) {
      errors.push(
        fieldError(
          field,
          `Unknown placeholder ${unknown.map((name) => `{{${name}}}`).join(', ')}; this mail offers ${offered.map((name) => `{{${name}}}`).join(', ')}.`,
        ),
      );
    }
  }
  return errors;
}

function languagesFor(language: string): string[] {
  const primary = language.split('-')[0]!;
  return primary === language ? [language] : [language, primary];
}

export function createMailTemplateService({ db, publicUrl }: { db: Db; publicUrl: string }) {
  const toResponse = (row: MailTemplateRow) => ({
    kind: row.kind as MailKind,
    language: row.language,
    subject: row.subject,
    html: row.html,
    text: row.text,
    placeholders: PLACEHOLDERS[row.kind as MailKind] ?? [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });

  return {
    async listTemplates(poolId: string) {
      const rows = await createMailTemplateQueries(db, poolId).listTemplates();
      return { items: rows.map(toResponse), nextCursor: null };
    },

    async getTemplate(poolId: string, kind: MailKind, language: string) {
      const row = await createMailTemplateQueries(db, poolId).findTemplate(kind, language);
      if (!row) throw problems.notFound('Mail template');
      return toResponse(row);
    },

    /** `record` writes the admin's event in the transaction of the change (ADR 0809), as in deleteTemplate. */
    async putTemplate(poolId: string, kind: MailKind, language: string, input: PutMailTemplateInput, record?: RecordChange) {
      const errors = unknownPlaceholders(kind, input);
      if (errors.length) throw problems.validation(errors, 'The template uses placeholders this mail does not have.');
      return toResponse(await changeWithEvents(db, record, (executor) => createMailTemplateQueries(executor, poolId).putTemplate(kind, language, input)));
    },

    async deleteTemplate(poolId: string, kind: MailKind, language: string, record?: RecordChange): Promise<void> {
      await changeWithEvents(db, record, async (executor) => {
        if (!(await createMailTemplateQueries(executor, poolId).deleteTemplate(kind, language))) throw problems.notFound('Mail template');
      });
    },

    /** The mail as a user would get it, with sample values: the draft in the request, else the saved template, else Tarn's own. */
    async preview(pool: PoolRow, kind: MailKind, input: { language: string } & Partial<PutMailTemplateInput>) {
      const brand = mailBrandOf(pool, publicUrl, input.language);
      // As in a real invitation: the date and time in the mail's language, never a raw GMT string.
      const inAWeek = new Date(Date.now() + 7 * 86_400_000);
      const sample: Record<string, string> = {
        poolName: brand.name,
        email: 'ada@example.com',
        code: '123456',
        minutes: '10',
        link: `${publicUrl}/pools/${pool.id}/example-link`,
        expires: translatorFor(matchLocale(input.language) ?? DEFAULT_LOCALE).dateTime(inAWeek),
      };
      const draft = input.subject !== undefined || input.html !== undefined || input.text !== undefined;
      const saved = await createMailTemplateQueries(db, pool.id).findFirstTemplate(kind, languagesFor(input.language));
      if (draft) {
        const errors = unknownPlaceholders(kind, input);
        if (errors.length) throw problems.validation(errors, 'The template uses placeholders this mail does not have.');
        const fallback = saved ?? builtIn(kind, brand, sample);
        const template = { subject: input.subject ?? fallback.subject, html: input.html ?? fallback.html, text: input.text ?? fallback.text };
        return { ...renderPoolTemplate(brand, template, sample), source: 'draft' as const };
      }
      if (saved) return { ...renderPoolTemplate(brand, saved, sample), source: 'pool' as const };
      const message = builtIn(kind, brand, sample);
      return { subject: message.subject, html: message.html, text: message.text, source: 'built-in' as const };
    },

    /** The pool's template for this mail, filled, or undefined. */
    async renderForSending(message: MailMessage): Promise<MailMessage | undefined> {
      const meta = message.template;
      if (!meta) return undefined;
      const row = await createMailTemplateQueries(db, meta.poolId).findFirstTemplate(meta.kind, languagesFor(meta.language));
      if (!row) return undefined;
      return { to: message.to, ...renderPoolTemplate(meta.brand, row, meta.values) };
    },
  };
}

export type MailTemplateService = ReturnType<typeof createMailTemplateService>;

/** The mailer that sends a pool's own template when it has one for the mail (else the mail as built). */
export function withPoolTemplates(mailer: Mailer, templates: Pick<MailTemplateService, 'renderForSending'>): Mailer {
  return {
    async send(message) {
      const own = await templates.renderForSending(message);
      await mailer.send(own ?? message);
    },
  };
}
