/** What the admin API and /me accept for users. Profile and metadata are objects; the pool's schemas refine them. */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';
import { pageQuery } from '../http/pagination.js';
import { normalizeEmail } from './email.js';

// Normalised before it is checked, so "ａlice@Example.com" is alice@example.com (email.ts).
export const emailSchema = z.string().max(320).overwrite(normalizeEmail).email({ message: 'Must be an email address.' });
const password = z.string().min(1).max(1024);
const profile = z.record(z.string(), z.unknown()).describe("What the user may edit about themselves: members as the pool's profileSchema declares them.");
const metadata = z.record(z.string(), z.unknown()).describe("Administrators' data about the user: members as the pool's metadataSchema declares them.");
const status = z.enum(['new', 'active', 'disabled']);

const common = {
  email: emailSchema,
  emailVerified: z.boolean().optional(),
  phone: z.string().max(32).nullable().optional(),
  profile: profile.optional(),
  metadata: profile.optional(),
};

/** mode "password": the admin sets the password, the user is active at once. mode "invite": status new, an activation mail. */
export const createUserSchema = z.discriminatedUnion(
  'mode',
  [z.object({ ...common, mode: z.literal('password'), password }).strict(), z.object({ ...common, mode: z.literal('invite') }).strict()],
  { error: () => 'Must be "password" or "invite".' },
);

export const updateUserSchema = z
  .object({
    email: emailSchema,
    emailVerified: z.boolean(),
    phone: z.string().max(32).nullable(),
    status,
    password,
    profile,
    metadata: profile,
    /** "required": the user chooses a new password at their next password sign-in, before the application gets its code. null clears it. */
    passwordChange: z.literal('required', { error: () => 'Must be "required" or null.' }).nullable(),
  })
  .partial()
  .strict();

/** PATCH /pools/{pool}/me: the profile only (merged; null removes an attribute). Never email, metadata or status. */
export const updateMeSchema = z.object({ profile: z.record(z.string(), z.unknown()) }).strict();

export type CreateUserInput = z.infer<typeof createUserSchema>;
export type UpdateUserInput = z.infer<typeof updateUserSchema>;
export type UpdateMeInput = z.infer<typeof updateMeSchema>;
export type ListUsersQuery = z.output<typeof listUsersQuery>;

export const listUsersQuery = z
  .object({
    ...pageQuery,
    email: z.string().max(320).optional().describe('Exact email, case-insensitive.'),
    emailPrefix: z.string().min(1).max(320).optional().describe('Email prefix, case-insensitive (% and _ are literal).'),
    status: status.optional(),
    q: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe(
        'Words to find in the email or in any text or number field of the profile (name, nickname, any field the profile schema declares); every word must match, case-insensitively.',
      ),
    sort: z
      .enum(['id', 'email', 'createdAt', '-createdAt'])
      .default('id')
      .describe('Order of the list: id (default), email, createdAt, -createdAt (newest first).'),
    total: z
      .enum(['true', 'false'])
      .optional()
      .transform((value) => value === 'true')
      .describe('true: the answer also says how many users match (total).'),
  })
  .strict();

export const userIdParams = z.object({ userId: z.string() });

// What the admin API answers for users. Never a password hash: hasPassword says whether there is one.
export const lockoutResponse = z.object({
  locked: z.boolean(),
  failures: z.number().int(),
  lockedUntil: timestamp.nullable(),
  windowStartedAt: timestamp.nullable(),
});

export const userResponse = z.object({
  id: z.string(),
  email: z.string(),
  emailVerified: z.boolean(),
  phone: z.string().nullable(),
  status,
  profile,
  metadata,
  hasPassword: z.boolean(),
  passwordChange: z
    .enum(['required', 'if_weak'])
    .nullable()
    .describe('required: a new password is asked at the next password sign-in; if_weak: asked then if the password fails the policy (an imported hash).'),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastLoginAt: timestamp.nullable(),
});

export const userPageResponse = z.object({
  items: z.array(userResponse),
  nextCursor: z.string().nullable(),
  total: z.number().int().optional().describe('How many users match, when total=true was asked.'),
});

export const invitationResponse = z.object({ sentTo: z.string(), expiresAt: timestamp });
export const createdUserResponse = userResponse.extend({
  invitation: invitationResponse.optional().describe('Mode "invite": where and until when the invitation holds.'),
});
export const userWithLockoutResponse = userResponse.extend({ lockout: lockoutResponse });
