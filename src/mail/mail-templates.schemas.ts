/** What the admin API accepts and answers for a pool's mail templates (docs/adr/0401). */
import { z } from 'zod';
import { LANGUAGE_TAG } from '../branding/branding.schemas.js';
import { timestamp } from '../http/guard.js';
import { MAIL_KINDS } from './mailer.js';

export const mailTemplateParams = z.object({
  kind: z.enum(MAIL_KINDS).describe('Which mail'),
  language: z.string().regex(LANGUAGE_TAG, { message: 'Must be a language tag such as "en" or "pt-BR".' }),
});
export const mailKindParams = z.object({ kind: z.enum(MAIL_KINDS).describe('Which mail') });

const templateFields = {
  subject: z.string().trim().min(1).max(300).describe('The subject line; {{placeholders}} allowed.'),
  html: z
    .string()
    .min(1)
    .max(50_000)
    .describe("The message's HTML body, shown inside the pool's branded frame (logo, colours, footer); {{placeholders}} are HTML-escaped."),
  text: z.string().min(1).max(20_000).describe('The plain-text body; {{placeholders}} allowed.'),
};

export const putMailTemplateSchema = z.object(templateFields).strict();

export const previewMailTemplateSchema = z
  .object({
    language: z.string().regex(LANGUAGE_TAG, { message: 'Must be a language tag such as "en" or "pt-BR".' }).default('en'),
    ...templateFields,
  })
  .partial({ subject: true, html: true, text: true })
  .strict();

export const mailTemplateResponse = z.object({
  kind: z.enum(MAIL_KINDS),
  language: z.string(),
  subject: z.string(),
  html: z.string(),
  text: z.string(),
  placeholders: z.array(z.string()).describe('The placeholders this kind of mail offers.'),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const mailTemplatesResponse = z.object({ items: z.array(mailTemplateResponse), nextCursor: z.null() });

export const mailPreviewResponse = z.object({
  subject: z.string(),
  html: z.string(),
  text: z.string(),
  source: z.enum(['draft', 'pool', 'built-in']).describe('What was rendered: the template in the request, the saved one, or Tarn’s own.'),
});

export type PutMailTemplateInput = z.infer<typeof putMailTemplateSchema>;
