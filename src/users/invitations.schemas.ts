/** POST /admin/pools/{pool}/users/invitations: which users to invite, and the report. */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';

export const MAX_BULK_INVITATIONS = 1000;

export const bulkInvitationSchema = z
  .object({
    userIds: z
      .array(z.string().max(100))
      .min(1, { message: 'Give at least one user id, or leave userIds out to invite every user of status "new".' })
      .max(MAX_BULK_INVITATIONS, { message: `At most ${MAX_BULK_INVITATIONS} users per request.` })
      .optional()
      .describe('These users. Without it: users of status "new" who have no live invitation, oldest first.'),
    limit: z
      .number()
      .int()
      .min(1)
      .max(MAX_BULK_INVITATIONS)
      .optional()
      .describe(`Without userIds: at most this many (default and maximum ${MAX_BULK_INVITATIONS}).`),
    resend: z.boolean().optional().describe('Also users whose invitation is still live (it is replaced). Default false.'),
  })
  .strict();

export type BulkInvitationInput = z.infer<typeof bulkInvitationSchema>;

export const SKIP_REASONS = ['not_found', 'not_new', 'already_invited', 'rate_limited', 'mail_failed'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export const bulkInvitationResponse = z.object({
  sent: z.array(z.object({ userId: z.string(), email: z.string(), expiresAt: timestamp })),
  skipped: z.array(
    z.object({
      userId: z.string(),
      email: z.string().nullable(),
      reason: z.enum(SKIP_REASONS),
      detail: z.string(),
    }),
  ),
  more: z.boolean().describe('Without userIds: more users of status "new" wait for an invitation (send the request again).'),
});
