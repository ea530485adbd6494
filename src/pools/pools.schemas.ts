/** What the admin API accepts for pools. Unknown fields are refused (strict objects). */
import { LOCALES } from '../i18n/catalogues.js';
import { z } from 'zod';
import { brandingResponse, brandingSchema } from '../branding/branding.schemas.js';
import { httpUrl, timestamp } from '../http/guard.js';
import { shownSecret } from '../http/shown-secret.js';
import { publicJwkResponse } from '../keys/jwk.schemas.js';

export const POOL_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** Ids Tarn keeps for its own pools (the admin pool, ADR 1000); creating a pool with one is refused. */
export const RESERVED_POOL_IDS = new Set(['tarn-admin']);

const jsonSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => value.type === undefined || value.type === 'object', { message: 'Must be a JSON Schema of type "object".' });

export const signInSchema = z
  .object({
    password: z.boolean(),
    emailCode: z.boolean(),
    passkey: z.boolean(),
    mfa: z
      .enum(['off', 'optional', 'required'])
      .describe('Second factor after a password: off, offered after sign-in (optional), or enrolled at the next sign-in (required).'),
    emailSecondFactor: z
      .boolean()
      .describe("Whether a 6-digit code mailed to the user's verified address counts as a second factor (default false: email is a weaker factor)."),
  })
  .partial()
  .strict();

export const passwordPolicySchema = z
  .object({ minLength: z.number().int().min(8).max(256) })
  .partial()
  .strict();

export const lockoutSchema = z
  .object({ maxAttempts: z.number().int().min(1).max(100), windowSeconds: z.number().int().min(10).max(86_400) })
  .partial()
  .strict();

export const accountSettingsSchema = z
  .object({
    allowDeletion: z.boolean().describe('Whether users may delete their own account on the hosted account page (default false).'),
  })
  .partial()
  .strict();

const poolFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  logoUrl: httpUrl.nullable(),
  tagColor: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, { message: 'Must be a colour as #rrggbb.' })
    .nullable()
    .describe('The colour of buttons when branding sets no primary colour; white text on it must reach 4.5:1.'),
  defaultLocale: z
    .enum(LOCALES, { message: `Must be one of the languages Tarn ships: ${LOCALES.join(', ')}.` })
    .nullable()
    .describe('The language of hosted pages and mails when neither ui_locales, the user nor the browser names one; null: English.'),
  branding: brandingSchema.describe(
    'Colours, scheme and per-language texts of the hosted pages and mails (the logo and favicon are uploaded at /branding/{kind}).',
  ),
  selfRegistration: z.boolean(),
  signIn: signInSchema,
  profileSchema: jsonSchema.nullable(),
  metadataSchema: jsonSchema.nullable(),
  passwordPolicy: passwordPolicySchema,
  lockout: lockoutSchema,
  account: accountSettingsSchema,
};

export const createPoolSchema = z
  .object({
    id: z
      .string()
      .regex(POOL_ID, { message: 'Must be 2 to 63 characters: lowercase letters, digits and "-", not starting with "-".' })
      .refine((id) => !RESERVED_POOL_IDS.has(id), { message: "Is reserved for Tarn's administrators." }),
    ...poolFields,
  })
  .partial()
  .required({ name: true })
  .strict();

export const updatePoolSchema = z.object(poolFields).partial().strict();

export const rotateKeysSchema = z.object({ revoke: z.boolean().default(false) }).strict();

export type CreatePoolInput = z.infer<typeof createPoolSchema>;
export type UpdatePoolInput = z.infer<typeof updatePoolSchema>;

// What the admin API answers for pools, their API secrets and signing keys.
const schemaDocument = z.record(z.string(), z.unknown()).describe('A JSON Schema (2020-12) document.');

export const poolResponse = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  logoUrl: z.string().nullable(),
  tagColor: z.string().nullable(),
  defaultLocale: z.enum(LOCALES).nullable(),
  selfRegistration: z.boolean(),
  signIn: signInSchema.required(),
  profileSchema: schemaDocument.nullable().describe("JSON Schema of users' profiles; null: the OIDC standard claims."),
  metadataSchema: schemaDocument.nullable().describe("JSON Schema of users' metadata; null: any object."),
  passwordPolicy: passwordPolicySchema.required(),
  lockout: lockoutSchema.required(),
  account: accountSettingsSchema.required(),
  branding: brandingResponse,
  issuer: z.string().describe("The pool's OpenID Connect issuer."),
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const createdPoolResponse = poolResponse.extend({
  secret: shownSecret.describe('The current API secret, shown once.'),
  nextSecret: shownSecret.describe('The next API secret, shown once.'),
});

const secretResponse = z.object({
  id: z.string(),
  status: z.enum(['current', 'next', 'revoked']),
  createdAt: timestamp,
  revokedAt: timestamp.nullable(),
});

export const secretsResponse = z.object({ items: z.array(secretResponse), nextCursor: z.null() });
export const rotatedSecretsResponse = z.object({ nextSecret: shownSecret.describe('The new next API secret, shown once.'), items: z.array(secretResponse) });

const keyResponse = z.object({
  kid: z.string(),
  alg: z.enum(['RS256', 'ES256']),
  status: z.enum(['next', 'current', 'retired', 'revoked']),
  published: z.boolean().describe("Whether the key is in the pool's JWKS now."),
  publicJwk: publicJwkResponse,
  createdAt: timestamp,
  activatedAt: timestamp.nullable(),
  retiredAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});

export const keysResponse = z.object({ items: z.array(keyResponse), nextCursor: z.null() });
