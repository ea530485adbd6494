/** What GET /admin/pools/{pool}/audit accepts as filters (besides limit and cursor), and what it answers. */
import { z } from 'zod';
import { timestamp } from '../http/guard.js';
import { pageQuery } from '../http/pagination.js';

const ACTOR_KINDS = ['admin', 'pool_secret', 'user', 'anonymous', 'system', 'administrator'] as const;
const dateTime = z.iso.datetime({ offset: true, message: 'An ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.' });

export const auditQuery = z
  .object({
    ...pageQuery,
    action: z
      .string()
      .min(1)
      .max(100)
      .regex(/^[\w.:-]+(\.\*)?$/, 'Letters, digits, ".", ":", "_" and "-" only, optionally ending in ".*".')
      .optional()
      .describe('An event type (user.created, keys.rotate, sign_in.failure), or a family (user.*)'),
    /** "admin", "user", … or "kind:id", e.g. "pool_secret:sec_abc" or "user:<uuid>". */
    actor: z
      .string()
      .max(200)
      .regex(new RegExp(`^(${ACTOR_KINDS.join('|')})(:[^\\s]{1,190})?$`), `One of ${ACTOR_KINDS.join(', ')}, optionally followed by ":" and an id.`)
      .optional()
      .describe('admin, pool_secret, user, anonymous, system; or kind:id'),
    outcome: z.enum(['success', 'failure']).optional(),
    since: dateTime.optional(),
    until: dateTime.optional(),
  })
  .strict();

export type AuditQuery = z.output<typeof auditQuery>;

export const auditEventResponse = z.object({
  id: z.string(),
  occurredAt: timestamp,
  actor: z.object({ kind: z.enum(ACTOR_KINDS), id: z.string().nullable() }),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  outcome: z.enum(['success', 'failure']),
  status: z.number().int().nullable(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  details: z
    .record(z.string(), z.unknown())
    .describe('What else the action names (ids, changed fields, counts); members depend on the action, never a secret value.'),
});
