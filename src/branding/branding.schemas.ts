/** What the admin API accepts and answers for a pool's branding (docs/adr/0401). */
import { z } from 'zod';
import { httpUrl } from '../http/guard.js';

export const HEX_COLOUR = /^#[0-9a-fA-F]{6}$/;
export const LANGUAGE_TAG = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

export const colour = z.string().regex(HEX_COLOUR, { message: 'Must be a colour as #rrggbb.' });

const language = z.string().regex(LANGUAGE_TAG, { message: 'Must be a language tag such as "en" or "pt-BR".' });

function localized(text: z.ZodType<string>, what: string) {
  return z.record(language, text).describe(`${what}, by language tag (e.g. {"en": "…", "de": "…"}).`);
}

/** The fields an administrator sets; null clears one (Tarn's look again). */
export const brandingSchema = z
  .object({
    primaryColor: colour.nullable().describe('Buttons, links, focus rings; white text on it must reach 4.5:1, and it 3:1 against the background.'),
    backgroundColor: colour.nullable().describe('The page and card background.'),
    textColor: colour.nullable().describe('Text; 4.5:1 against the background colour is required.'),
    scheme: z.enum(['light', 'dark']).describe('Light or dark defaults for the colours not set.'),
    title: localized(z.string().trim().min(1).max(200), 'The name shown at the top of every page instead of the pool name').nullable(),
    signInSubtitle: localized(z.string().trim().min(1).max(300), 'A line under the sign-in heading').nullable(),
    footer: localized(z.string().trim().min(1).max(500), 'The line at the foot of every page').nullable(),
    termsUrl: localized(httpUrl, 'The terms of service, linked on the consent and registration pages').nullable(),
    privacyUrl: localized(httpUrl, 'The privacy policy, linked on the consent and registration pages').nullable(),
  })
  .partial()
  .strict();

export type BrandingInput = z.infer<typeof brandingSchema>;

export const ASSET_KINDS = ['logo', 'favicon'] as const;
export const ASSET_MEDIA_TYPES = ['image/png', 'image/webp', 'image/svg+xml'] as const;
export const MAX_ASSET_BYTES = 256 * 1024;

export const uploadAssetSchema = z
  .object({
    mediaType: z.enum(ASSET_MEDIA_TYPES).describe('PNG, WebP, or SVG (sanitised: scripts, event handlers, external references and foreignObject are removed).'),
    data: z
      .string()
      .max(Math.ceil(MAX_ASSET_BYTES / 3) * 4 + 4, { message: `The file must be at most ${MAX_ASSET_BYTES / 1024} KiB.` })
      .regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: 'Must be the file in base64.' })
      .describe(`The file, base64-encoded; at most ${MAX_ASSET_BYTES / 1024} KiB once decoded.`),
  })
  .strict();

export const assetParams = z.object({ kind: z.enum(ASSET_KINDS).describe('logo or favicon') });

const assetResponse = z.object({
  url: z.string().describe('Where pages load it; the URL changes with the content (its SHA-256), and the file is cached for a year.'),
  mediaType: z.enum(ASSET_MEDIA_TYPES),
  sha256: z.string(),
  size: z.number().int(),
});

export const brandingResponse = z.object({
  primaryColor: z.string().nullable(),
  backgroundColor: z.string().nullable(),
  textColor: z.string().nullable(),
  scheme: z.enum(['light', 'dark']),
  title: z.record(z.string(), z.string()),
  signInSubtitle: z.record(z.string(), z.string()),
  footer: z.record(z.string(), z.string()),
  termsUrl: z.record(z.string(), z.string()),
  privacyUrl: z.record(z.string(), z.string()),
  logo: assetResponse.nullable(),
  favicon: assetResponse.nullable(),
});
