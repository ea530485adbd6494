/** What the admin API accepts for pools. Unknown fields are refused (strict objects). */
import { z } from 'zod';

export const POOL_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

const jsonSchema = z
  .record(z.string(), z.unknown())
  .refine((value) => value.type === undefined || value.type === 'object', { message: 'Must be a JSON Schema of type "object".' });

const httpsOrHttpUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      return ['https:', 'http:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, { message: 'Must be an absolute http(s) URL.' });

export const signInSchema = z
  .object({ password: z.boolean(), emailCode: z.boolean(), passkey: z.boolean() })
  .partial()
  .strict();

export const passwordPolicySchema = z.object({ minLength: z.number().int().min(8).max(256) }).partial().strict();

export const lockoutSchema = z
  .object({ maxAttempts: z.number().int().min(1).max(100), windowSeconds: z.number().int().min(10).max(86_400) })
  .partial()
  .strict();

const poolFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000),
  logoUrl: httpsOrHttpUrl.nullable(),
  tagColor: z.string().regex(/^#[0-9a-fA-F]{6}$/, { message: 'Must be a colour as #rrggbb.' }).nullable(),
  selfRegistration: z.boolean(),
  signIn: signInSchema,
  profileSchema: jsonSchema.nullable(),
  metadataSchema: jsonSchema.nullable(),
  passwordPolicy: passwordPolicySchema,
  lockout: lockoutSchema,
};

export const createPoolSchema = z
  .object({
    id: z.string().regex(POOL_ID, { message: 'Must be 2 to 63 characters: lowercase letters, digits and "-", not starting with "-".' }),
    ...poolFields,
  })
  .partial()
  .required({ name: true })
  .strict();

export const updatePoolSchema = z.object(poolFields).partial().strict();

export const rotateKeysSchema = z.object({ revoke: z.boolean().default(false) }).strict();

export type CreatePoolInput = z.infer<typeof createPoolSchema>;
export type UpdatePoolInput = z.infer<typeof updatePoolSchema>;
