/** What GET /admin/pools/{pool}/audit accepts as filters (besides limit and cursor). */
import { z } from 'zod';

const ACTOR_KINDS = ['admin', 'pool_secret', 'user', 'anonymous', 'system'] as const;

export const auditFilterQuery = z.object({
  action: z.string().min(1).max(100).regex(/^[\w.:-]+$/, 'Letters, digits, ".", ":", "_" and "-" only.').optional(),
  /** "admin", "user", … or "kind:id", e.g. "pool_secret:sec_abc" or "user:<uuid>". */
  actor: z
    .string()
    .max(200)
    .regex(new RegExp(`^(${ACTOR_KINDS.join('|')})(:[^\\s]{1,190})?$`), `One of ${ACTOR_KINDS.join(', ')}, optionally followed by ":" and an id.`)
    .optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  since: z.iso.datetime({ offset: true, message: 'An ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.' }).optional(),
  until: z.iso.datetime({ offset: true, message: 'An ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.' }).optional(),
});
