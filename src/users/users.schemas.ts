/** What the admin API accepts for users. Profile and metadata are objects; the pool's schemas refine them. */
import { z } from 'zod';

const email = z.string().trim().max(320).email({ message: 'Must be an email address.' });
const password = z.string().min(1).max(1024);
const profile = z.record(z.string(), z.unknown());
const status = z.enum(['new', 'active', 'disabled']);

export const createUserSchema = z
  .object({
    email,
    mode: z.literal('password', { message: 'Must be "password".' }),
    password,
    emailVerified: z.boolean().optional(),
    phone: z.string().max(32).nullable().optional(),
    profile: profile.optional(),
    metadata: profile.optional(),
  })
  .strict();

export const updateUserSchema = z
  .object({
    email,
    emailVerified: z.boolean(),
    phone: z.string().max(32).nullable(),
    status,
    password,
    profile,
    metadata: profile,
  })
  .partial()
  .strict();

export const listUsersQuery = z.object({ email: z.string().max(320).optional(), status: status.optional() });

export type CreateUserInput = z.infer<typeof createUserSchema>;
export type UpdateUserInput = z.infer<typeof updateUserSchema>;
